"""The scene frame over HTTP: ingested with the alert, served as image/jpeg to operators only (audited
like the crop), 404 when none; the PAD verdict and stream integrity flags come with the alert."""

from __future__ import annotations

import base64

import pytest

from tests.api.conftest import Running
from tests.api.helpers import active_deployment, alert_body, device_client, enrol_yaoming, jpeg


@pytest.fixture(scope="module")
def setup(running: Running) -> dict[str, int]:
    return {"entry": enrol_yaoming(running), "deployment": active_deployment(running)}


def test_scene_is_served_to_operators_audited_and_404_when_none(running: Running, setup: dict[str, int]) -> None:
    scene = jpeg((200, 40, 40), 960)
    body = alert_body(setup["entry"]) | {
        "scene_jpeg_b64": base64.b64encode(scene).decode(),
        "integrity_flags": ["frozen"],
        "pad": {"backend": "minifas", "score": 0.31, "live": False},
    }
    dev = device_client(running, setup["deployment"])
    with_scene = dev.post("/api/v1/ingest/alerts", json=body).json()["alert_id"]
    without = dev.post("/api/v1/ingest/alerts", json=alert_body(setup["entry"])).json()["alert_id"]
    bad = alert_body(setup["entry"]) | {"scene_jpeg_b64": base64.b64encode(b"GIF89a" + b"0" * 64).decode()}
    refused = dev.post("/api/v1/ingest/alerts", json=bad)
    assert refused.status_code == 422
    assert "scene frame" in refused.text
    dev.close()
    op = running.login("op")
    a = op.get(f"/api/v1/alerts/{with_scene}").json()
    assert a["has_scene"] is True
    assert a["integrity_flags"] == ["frozen"]
    assert a["pad"] == {"backend": "minifas", "score": 0.31, "live": False}
    assert op.get(f"/api/v1/alerts/{without}").json()["has_scene"] is False
    r = op.get(f"/api/v1/alerts/{with_scene}/scene")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/jpeg"
    assert r.headers["cache-control"] == "no-store"
    assert r.content == scene
    assert op.get(f"/api/v1/alerts/{without}/scene").status_code == 404
    op.close()
    aud = running.login("aud")
    assert aud.get(f"/api/v1/alerts/{with_scene}/scene").status_code == 403
    viewed = aud.get("/api/v1/audit?action=alert.viewed").json()
    assert any(e["target"] == f"alert:{with_scene}" and e["details"] == {"scene": True} for e in viewed)
    aud.close()
