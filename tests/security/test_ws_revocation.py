"""The alert WebSocket after its credentials end: nothing more arrives once a heartbeat has passed.

The fan-out loads each alert once per process and checks each credential once per heartbeat
(not before every push, as it did). An attack to keep closed: a console whose operator logged
out, was disabled, lost the adjudicating role, or whose token was revoked keeps receiving alerts.
Each case: the credential ends, one heartbeat (and a margin) passes, an alert is ingested; the
socket must close with 4401 without that alert. Sessions in memory and in the database."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from overt.api.security import SESSION_COOKIE
from tests.api.conftest import Running, start_server
from tests.api.helpers import active_deployment, alert_body, device_client, enrol_yaoming

HEARTBEAT_S = 0.5


@pytest.fixture(scope="module", params=["memory", "database"])
def running(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    r = start_server(
        tmp_path_factory.mktemp("ws") / "data", ws_heartbeat_s=HEARTBEAT_S, shared_sessions=request.param == "database"
    )
    yield r
    r.server.stop()
    r.store.db.dispose()


@pytest.fixture(scope="module")
def edge(running: Running) -> Iterator[tuple[httpx.Client, int]]:
    entry = enrol_yaoming(running)
    dev = device_client(running, active_deployment(running))
    yield dev, entry
    dev.close()


@contextmanager
def _socket(running: Running, headers: dict[str, str]) -> Iterator[ClientConnection]:
    host = running.url.split("://", 1)[1]
    with connect(f"ws://{host}/api/v1/ws/alerts", additional_headers={**headers, "Origin": running.url}) as conn:
        assert json.loads(conn.recv(timeout=5))["type"] == "heartbeat"
        yield conn


def _ended_without(conn: ClientConnection, alert_id: int) -> int:
    """Read until the server closes; no alert ``alert_id`` may arrive. The close code."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            msg = json.loads(conn.recv(timeout=10))
        except ConnectionClosed as closed:
            return -1 if closed.rcvd is None else closed.rcvd.code
        assert msg["type"] == "heartbeat" or msg["alert"]["id"] != alert_id, "pushed after revocation"
    raise AssertionError("the stream was never closed")


def _revoked_then_ingest(
    running: Running, edge: tuple[httpx.Client, int], headers: dict[str, str], revoke: Callable[[], object]
) -> None:
    dev, entry = edge
    with _socket(running, headers) as conn:
        revoke()
        time.sleep(HEARTBEAT_S * 3)  # one heartbeat, with a wide margin for a loaded machine
        r = dev.post("/api/v1/ingest/alerts", json=alert_body(entry))
        assert r.status_code == 201, r.text
        assert _ended_without(conn, r.json()["alert_id"]) == 4401


def _session(running: Running, user: str) -> tuple[httpx.Client, dict[str, str]]:
    c = running.login(user)
    return c, {"Cookie": f"{SESSION_COOKIE}={c.cookies[SESSION_COOKIE]}"}


def _user_id(running: Running, admin: httpx.Client, name: str) -> int:
    return int(next(u["id"] for u in admin.get("/api/v1/users").json() if u["name"] == name))


def test_logout_stops_the_stream_within_a_heartbeat(running: Running, edge: tuple[httpx.Client, int]) -> None:
    c, headers = _session(running, "op")
    _revoked_then_ingest(running, edge, headers, lambda: c.post("/api/v1/auth/logout").raise_for_status())
    c.close()


def _admin_changes_op2(running: Running, edge: tuple[httpx.Client, int], change: str, undo: str, **body: str) -> None:
    """An admin changes op2 (``change``) while op2's console is open; ``undo`` restores it."""
    c, headers = _session(running, "op2")
    admin = running.login("admin")
    uid = _user_id(running, admin, "op2")
    try:
        _revoked_then_ingest(
            running, edge, headers, lambda: admin.post(f"/api/v1/users/{uid}/{change}", json=body).raise_for_status()
        )
    finally:
        admin.post(f"/api/v1/users/{uid}/{undo}", json={"role": "operator"} if body else None).raise_for_status()
        admin.close()
        c.close()


def test_disabled_operator_stops_receiving_within_a_heartbeat(running: Running, edge: tuple[httpx.Client, int]) -> None:
    _admin_changes_op2(running, edge, "disable", "enable")


def test_operator_moved_to_auditor_stops_receiving(running: Running, edge: tuple[httpx.Client, int]) -> None:
    _admin_changes_op2(running, edge, "role", "role", role="auditor")


def test_revoked_token_stops_the_stream_within_a_heartbeat(running: Running, edge: tuple[httpx.Client, int]) -> None:
    c, _ = _session(running, "op")
    r = c.post("/api/v1/tokens", json={"name": "console-script", "kind": "user"})
    assert r.status_code == 201, r.text
    token, token_id = r.json()["token"], r.json()["id"]
    headers = {"Authorization": f"Bearer {token}"}
    _revoked_then_ingest(running, edge, headers, lambda: c.delete(f"/api/v1/tokens/{token_id}").raise_for_status())
    c.close()


def test_other_consoles_keep_receiving_after_one_session_ends(running: Running, edge: tuple[httpx.Client, int]) -> None:
    dev, entry = edge
    ending, ending_headers = _session(running, "op")
    staying, staying_headers = _session(running, "op")
    with _socket(running, ending_headers) as gone, _socket(running, staying_headers) as kept:
        ending.post("/api/v1/auth/logout").raise_for_status()
        time.sleep(HEARTBEAT_S * 3)
        alert_id = dev.post("/api/v1/ingest/alerts", json=alert_body(entry)).json()["alert_id"]
        assert _ended_without(gone, alert_id) == 4401
        while (msg := json.loads(kept.recv(timeout=10)))["type"] != "alert":
            pass
        assert msg["alert"]["id"] == alert_id
    staying.close()
    ending.close()
