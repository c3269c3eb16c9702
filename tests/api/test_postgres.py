"""The same server on PostgreSQL: log in, run a deployment, ingest, push, adjudicate, verify audit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from websockets.sync.client import connect

from overt.api.app import create_app
from overt.api.security import SESSION_COOKIE
from overt.api.settings import ApiSettings
from overt.api.testing import ServerThread
from overt.store.datadir import init_data_dir
from tests.api.conftest import Running, make_users
from tests.api.helpers import active_deployment, alert_body, device_client, enrol_yaoming

pytestmark = pytest.mark.postgres


def test_api_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    store = init_data_dir(tmp_path / "data", database_url_=postgres_url)
    make_users(store)
    app = create_app(ApiSettings(data_dir=tmp_path / "data", secure_cookies=False, alert_poll_s=0.1), store=store)
    server = ServerThread(app).start()
    try:
        running = Running(server.url, store, tmp_path / "data", server)
        entry = enrol_yaoming(running)
        dep = active_deployment(running)
        op = running.login("op")
        host = running.url.split("://", 1)[1]
        dev = device_client(running, dep)
        with connect(
            f"ws://{host}/api/v1/ws/alerts",
            additional_headers={"Cookie": f"{SESSION_COOKIE}={op.cookies[SESSION_COOKIE]}", "Origin": running.url},
        ) as ws:
            alert_id = dev.post("/api/v1/ingest/alerts", json=alert_body(entry)).json()["alert_id"]
            while (msg := json.loads(ws.recv(timeout=10)))["type"] == "heartbeat":
                pass
        assert msg["alert"]["id"] == alert_id
        r = op.post(f"/api/v1/alerts/{alert_id}/adjudication", json={"verdict": "true_match", "outcome": "engaged"})
        assert r.status_code == 200, r.text
        aud = running.login("aud")
        v = aud.post("/api/v1/audit/verify").json()
        assert v["ok"] is True
        assert v["entries"] > 10
        for c in (op, dev, aud):
            c.close()
    finally:
        server.stop()
        store.db.dispose()
