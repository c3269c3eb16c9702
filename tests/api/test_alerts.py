"""Alerts end to end over a real server: ingest, WebSocket push, images (audited), adjudication."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from websockets.sync.client import ClientConnection, connect

from overt.api.deps import Services
from overt.api.security import SESSION_COOKIE
from tests.api.conftest import Running
from tests.api.helpers import active_deployment, alert_body, device_client, enrol_yaoming, jpeg


@pytest.fixture(scope="module")
def setup(running: Running) -> dict[str, int]:
    entry = enrol_yaoming(running)
    dep = active_deployment(running)
    return {"entry": entry, "deployment": dep}


@contextmanager
def _ws(running: Running, user: str) -> Iterator[ClientConnection]:
    c = running.login(user)
    sid = c.cookies[SESSION_COOKIE]
    c.close()
    host = running.url.split("://", 1)[1]
    with connect(
        f"ws://{host}/api/v1/ws/alerts",
        additional_headers={"Cookie": f"{SESSION_COOKIE}={sid}", "Origin": running.url},
        open_timeout=10,
    ) as conn:
        yield conn


@pytest.fixture
def ws(running: Running) -> Iterator[ClientConnection]:
    with _ws(running, "op") as conn:
        yield conn


def _next_alert(conn: ClientConnection, timeout_s: float = 5.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while True:
        msg = json.loads(conn.recv(timeout=max(0.01, deadline - time.monotonic())))
        if msg["type"] == "alert":
            return dict(msg["alert"])


def test_ingested_alert_is_pushed_within_a_second(
    running: Running, setup: dict[str, int], ws: ClientConnection
) -> None:
    dev = device_client(running, setup["deployment"])
    t0 = time.perf_counter()
    r = dev.post("/api/v1/ingest/alerts", json=alert_body(setup["entry"]))
    assert r.status_code == 201, r.text
    alert = _next_alert(ws)
    latency = time.perf_counter() - t0
    assert alert["id"] == r.json()["alert_id"]
    assert alert["entry_id"] == setup["entry"]
    assert alert["category"] == "wanted_by_court"
    assert latency < 5.0, f"push took {latency:.3f} s"  # the 1 s target is measured in bench/api_latency.py
    # retried delivery (edge spool) is idempotent
    body = alert_body(setup["entry"], alert_id="same-one")
    first = dev.post("/api/v1/ingest/alerts", json=body).json()
    again = dev.post("/api/v1/ingest/alerts", json=body).json()
    assert again == {"alert_id": first["alert_id"], "duplicate": True}
    dev.close()


def test_alert_written_by_another_process_is_pushed_by_polling(
    running: Running, setup: dict[str, int], ws: ClientConnection
) -> None:
    # as the pipeline of `overt watch` would: straight into the store, no notifier call
    with running.store.transaction() as tx:
        a = tx.alerts.add(
            deployment_id=setup["deployment"],
            camera_id="cam-2",
            entry_id=setup["entry"],
            similarity=0.66,
            raised_at=datetime.now(UTC),
            crop=jpeg(),
        )
    t0 = time.perf_counter()
    got = _next_alert(ws)
    assert got["id"] == a.id
    assert time.perf_counter() - t0 < 5.0


def test_images_are_served_to_operators_and_every_view_is_audited(running: Running, setup: dict[str, int]) -> None:
    dev = device_client(running, setup["deployment"])
    alert_id = dev.post("/api/v1/ingest/alerts", json=alert_body(setup["entry"])).json()["alert_id"]
    dev.close()
    op = running.login("op")
    crop = op.get(f"/api/v1/alerts/{alert_id}/crop.jpg")
    assert crop.status_code == 200
    assert crop.content.startswith(b"\xff\xd8")
    assert crop.headers["cache-control"] == "no-store"
    ref = op.get(f"/api/v1/alerts/{alert_id}/watchlist.jpg")
    assert ref.status_code == 200
    assert ref.content.startswith(b"\xff\xd8")
    op.close()
    aud = running.login("aud")
    assert aud.get(f"/api/v1/alerts/{alert_id}/crop.jpg").status_code == 403
    assert aud.get(f"/api/v1/alerts/{alert_id}").status_code == 200  # facts, no image
    viewed = aud.get("/api/v1/audit?action=alert.viewed").json()
    assert any(e["target"] == f"alert:{alert_id}" and e["actor"] == "op" for e in viewed)
    seen = aud.get("/api/v1/audit?action=watchlist.image_viewed").json()
    assert any(e["details"].get("alert") == alert_id for e in seen)
    aud.close()


def test_adjudication_counts_in_the_report(running: Running, setup: dict[str, int], ws: ClientConnection) -> None:
    dev = device_client(running, setup["deployment"])
    a1 = dev.post("/api/v1/ingest/alerts", json=alert_body(setup["entry"])).json()["alert_id"]
    a2 = dev.post("/api/v1/ingest/alerts", json=alert_body(setup["entry"])).json()["alert_id"]
    dev.close()
    op = running.login("op")
    r = op.post(f"/api/v1/alerts/{a1}/adjudication", json={"verdict": "true_match", "outcome": "arrested"})
    assert r.status_code == 200, r.text
    assert r.json()["counted"] is True
    assert r.json()["alert"]["adjudication"] == "true_match"
    r = op.post(f"/api/v1/alerts/{a2}/adjudication", json={"verdict": "false_match", "outcome": "arrested"})
    assert r.status_code == 422  # a false alert has no arrest
    r = op.post(f"/api/v1/alerts/{a2}/adjudication", json={"verdict": "false_match"})
    assert r.status_code == 200
    assert op.post(f"/api/v1/alerts/{a2}/adjudication", json={"verdict": "true_match"}).status_code == 422
    # the console hears about the change
    deadline = time.monotonic() + 5
    updates: set[int] = set()
    while time.monotonic() < deadline and {a1, a2} - updates:
        msg = json.loads(ws.recv(timeout=5))
        if msg["type"] == "update":
            updates.add(msg["alert"]["id"])
    assert {a1, a2} <= updates
    rep = op.get(f"/api/v1/reports/deployments/{setup['deployment']}").json()
    assert rep["true_alerts"] >= 1
    assert rep["false_alerts"] >= 1
    assert rep["outcomes"].get("arrested", 0) >= 1
    op.close()


def test_second_person_confirmation(running: Running, setup: dict[str, int]) -> None:
    svc: Services = running.server.app.state.services
    svc.alerts.second_person = True
    try:
        dev = device_client(running, setup["deployment"])
        a = dev.post("/api/v1/ingest/alerts", json=alert_body(setup["entry"])).json()["alert_id"]
        dev.close()
        op, op2 = running.login("op"), running.login("op2")
        r = op.post(f"/api/v1/alerts/{a}/adjudication", json={"verdict": "true_match", "outcome": "engaged"})
        assert r.json()["counted"] is False
        assert r.json()["alert"]["pending"]["proposed_by"] == "op"
        assert r.json()["alert"]["adjudication"] is None
        r = op.post(f"/api/v1/alerts/{a}/adjudication", json={"verdict": "true_match"})
        assert r.status_code == 409  # not by the same person
        r = op2.post(f"/api/v1/alerts/{a}/adjudication", json={"verdict": "true_match"})
        assert r.json()["counted"] is True
        assert r.json()["alert"]["adjudication"] == "true_match"
        assert r.json()["alert"]["outcome"] == "engaged"
        op.close()
        op2.close()
    finally:
        svc.alerts.second_person = False


def test_device_token_only_posts_for_its_deployment(running: Running, setup: dict[str, int]) -> None:
    dev = device_client(running, setup["deployment"])
    assert dev.get("/api/v1/alerts").status_code == 403
    assert dev.get(f"/api/v1/alerts/{1}/crop.jpg").status_code == 403
    assert dev.post("/api/v1/ingest/alerts", json={"alert_id": "x"}).status_code == 422
    bad = alert_body(setup["entry"])
    bad["probe_crop_jpeg_b64"] = "bm90IGEganBlZw=="
    assert dev.post("/api/v1/ingest/alerts", json=bad).status_code == 422
    dev.close()


def test_websocket_refuses_strangers(running: Running) -> None:
    host = running.url.split("://", 1)[1]
    with (
        pytest.raises(Exception, match=r"403|1008|rejected|policy"),
        connect(f"ws://{host}/api/v1/ws/alerts", open_timeout=5) as c,
    ):
        c.recv(timeout=2)
    with pytest.raises(Exception, match=r"403|1008|rejected|policy|closed"), _ws(running, "aud") as aud:
        aud.recv(timeout=2)


def _drain(conn: ClientConnection) -> None:
    """Read until the server closes the stream (raises then); a timeout means it never did."""
    while True:
        json.loads(conn.recv(timeout=5))


def test_websocket_stream_ends_at_logout(running: Running, setup: dict[str, int]) -> None:
    c = running.login("op")
    sid = c.cookies[SESSION_COOKIE]
    host = running.url.split("://", 1)[1]
    dev = device_client(running, setup["deployment"])
    with connect(
        f"ws://{host}/api/v1/ws/alerts",
        additional_headers={"Cookie": f"{SESSION_COOKIE}={sid}", "Origin": running.url},
    ) as conn:
        assert c.post("/api/v1/auth/logout").status_code == 204
        dev.post("/api/v1/ingest/alerts", json=alert_body(setup["entry"]))
        with pytest.raises(Exception, match=r"1008|closed|revoked"):
            _drain(conn)
    dev.close()
    c.close()


def test_undo_is_a_server_event_by_the_decider_within_the_window_then_409(
    running: Running, setup: dict[str, int]
) -> None:
    store = running.server.app.state.services.store
    dev = device_client(running, setup["deployment"])
    a = dev.post("/api/v1/ingest/alerts", json=alert_body(setup["entry"])).json()["alert_id"]
    dev.close()
    op, op2 = running.login("op"), running.login("op2")
    before = op.get(f"/api/v1/reports/deployments/{setup['deployment']}").json()
    r = op.post(f"/api/v1/alerts/{a}/adjudication", json={"verdict": "false_match"})
    assert r.json()["alert"]["undo_until"] is not None
    decided_as_of = datetime.fromisoformat(r.json()["alert"]["as_of"])
    assert op2.post(f"/api/v1/alerts/{a}/undo").status_code == 403  # not the decider
    r = op.post(f"/api/v1/alerts/{a}/undo")
    assert r.status_code == 200, r.text
    assert datetime.fromisoformat(r.json()["as_of"]) >= decided_as_of  # a console keeps the later view
    assert (r.json()["adjudication"], r.json()["events"][-1]["kind"]) == (None, "undone")
    assert op.get(f"/api/v1/reports/deployments/{setup['deployment']}").json()["false_alerts"] == before["false_alerts"]
    assert op.post(f"/api/v1/alerts/{a}/undo").status_code == 409  # nothing to undo
    assert op.post(f"/api/v1/alerts/{a}/adjudication", json={"verdict": "true_match"}).json()["counted"] is True
    policy = store.policy
    store.policy = replace(policy, undo_window=timedelta(0))  # the window has passed
    try:
        r = op.post(f"/api/v1/alerts/{a}/undo")
    finally:
        store.policy = policy
    assert r.status_code == 409
    assert "record a correction instead" in r.json()["detail"]
    # retention: the period is the operator's choice, within the service's bounds
    r = op.post(f"/api/v1/alerts/{a}/followups", json={"kind": "retain", "reason": "complaint", "days": 5000})
    assert r.status_code == 422
    assert "1 to 1,095 days, not 5,000" in r.json()["detail"]
    assert op.post(f"/api/v1/alerts/{a}/followups", json={"kind": "retain", "reason": "x"}).status_code == 422
    r = op.post(f"/api/v1/alerts/{a}/followups", json={"kind": "retain", "reason": "complaint", "days": 30})
    assert r.status_code == 200, r.text
    op.close()
    op2.close()
