"""Alert push across processes through PostgreSQL LISTEN/NOTIFY: an alert written by another
store (another process: a worker, another API process) reaches this server's WebSocket at once,
with the store poll slowed to 30 s so only the NOTIFY path can deliver it; and again after the
listener's connection was killed (it reconnects)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import psycopg
import pytest
from websockets.sync.client import connect

from overt.alerts.review import AlertService, IncomingAlert
from overt.api.app import create_app
from overt.api.pg_notifier import PgAlertNotifier, libpq_conninfo
from overt.api.security import SESSION_COOKIE
from overt.api.settings import ApiSettings
from overt.api.testing import ServerThread
from overt.store.datadir import init_data_dir, open_data_dir
from tests.api.conftest import Running, make_users
from tests.api.helpers import active_deployment, alert_body, enrol_yaoming

pytestmark = pytest.mark.postgres


def _incoming(entry: int) -> IncomingAlert:
    from overt.api.routes.alerts import incoming
    from overt.api.schemas import IngestAlertIn

    return incoming(IngestAlertIn.model_validate(alert_body(entry)))


def test_alert_of_another_process_is_pushed_through_notify(postgres_url: str, tmp_path: Path) -> None:
    store = init_data_dir(tmp_path / "data", database_url_=postgres_url)
    make_users(store)
    app = create_app(ApiSettings(data_dir=tmp_path / "data", secure_cookies=False, alert_poll_s=30), store=store)
    notifier = app.state.services.notifier
    assert isinstance(notifier, PgAlertNotifier)
    server = ServerThread(app).start()
    other = open_data_dir(tmp_path / "data")  # a second connection pool: as another process would
    try:
        running = Running(server.url, store, tmp_path / "data", server)
        entry = enrol_yaoming(running)
        dep = active_deployment(running)
        op = running.login("op")
        host = running.url.split("://", 1)[1]
        headers = {"Cookie": f"{SESSION_COOKIE}={op.cookies[SESSION_COOKIE]}", "Origin": running.url}
        with connect(f"ws://{host}/api/v1/ws/alerts", additional_headers=headers) as ws:
            for round_ in range(2):
                t0 = time.monotonic()
                alert_id, _ = AlertService(other).ingest("worker", dep, _incoming(entry))
                while (msg := json.loads(ws.recv(timeout=5)))["type"] == "heartbeat":
                    pass
                took = time.monotonic() - t0
                assert msg["type"] == "alert"
                assert msg["alert"]["id"] == alert_id
                assert took < 5  # the poll (30 s) could not have delivered it
                if round_ == 0:  # kill the listener's connection: it must come back
                    with psycopg.connect(libpq_conninfo(postgres_url), autocommit=True) as conn:
                        conn.execute(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE query LIKE 'LISTEN%%' AND pid <> pg_backend_pid()"
                        )
                    deadline = time.monotonic() + 10
                    while notifier.reconnects == 0 or not notifier.connected.is_set():
                        assert time.monotonic() < deadline, "the listener did not reconnect"
                        time.sleep(0.05)
        op.close()
    finally:
        server.stop()
        other.db.dispose()
        store.db.dispose()
