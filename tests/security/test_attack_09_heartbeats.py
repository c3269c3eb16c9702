"""Camera heartbeats from edge nodes (issue 11): a device token may only say that *its*
deployment's (and its cameras') frames are being processed. A token for deployment A cannot make
deployment B look live, a camera-bound token cannot beat for another camera, a person's session
cannot beat at all, a stopped deployment takes none, the body is a small validated schema, and a
flood is refused (429) before any database work.
A refused beat leaves nothing in the database: the console never says live on a forged word."""

from __future__ import annotations

import time
from contextlib import closing
from typing import Any

import httpx
import pytest

from overt.deployments.liveness import DEVICE_EVERY_S, READ_CACHE_S
from tests.api.conftest import Running
from tests.api.helpers import active_deployment, device_client
from tests.security.conftest import bearer


def _beat(camera: str = "cam-1", **extra: Any) -> dict[str, Any]:
    return {"cameras": [{"camera_id": camera, "frames": 100, "fps": 25.0, "age_s": 0.1, **extra}]}


def _cameras(running: Running, dep: int) -> list[dict[str, Any]]:
    time.sleep(READ_CACHE_S + 0.05)  # past the server's read cache
    with closing(running.login("op")) as op:
        r = op.get(f"/api/v1/pipeline/health?deployment_id={dep}")
    assert r.status_code == 200, r.text
    return list(r.json()["cameras"])


@pytest.fixture(scope="module")
def deps(running: Running) -> tuple[int, int]:
    return active_deployment(running), active_deployment(running)


def test_a_token_for_one_deployment_cannot_beat_for_another(running: Running, deps: tuple[int, int]) -> None:
    a, b = deps
    with closing(device_client(running, a)) as dev:
        r = dev.post(f"/api/v1/deployments/{b}/heartbeat", json=_beat())
        assert r.status_code == 403, r.text
        assert _cameras(running, b) == []
        ok = dev.post(f"/api/v1/deployments/{a}/heartbeat", json=_beat())
        assert ok.status_code == 202, ok.text
        time.sleep(DEVICE_EVERY_S + 0.1)
        again = dev.post(f"/api/v1/deployments/{a}/heartbeat", json=_beat())  # idempotent
        assert again.status_code == 202, again.text
    cams = _cameras(running, a)
    assert [(c["camera_id"], c["state"], c["source"], c["frames"]) for c in cams] == [("cam-1", "live", "edge", 100)]
    assert _cameras(running, b) == []


def test_a_camera_bound_token_beats_only_for_its_cameras(running: Running, deps: tuple[int, int]) -> None:
    _, b = deps
    with closing(running.login("admin")) as admin:
        r = admin.post(
            "/api/v1/tokens", json={"name": "edge-cam", "kind": "device", "deployment_id": b, "cameras": ["door"]}
        )
    assert r.status_code == 201, r.text
    with closing(running.client()) as c:
        c.headers.update(bearer(r.json()["token"]))
        refused = c.post(f"/api/v1/deployments/{b}/heartbeat", json=_beat("cam-1"))
        assert refused.status_code == 403, refused.text
        mixed = {"cameras": [*_beat("door")["cameras"], *_beat("cam-2")["cameras"]]}
        assert c.post(f"/api/v1/deployments/{b}/heartbeat", json=mixed).status_code == 403
        assert _cameras(running, b) == []
        assert c.post(f"/api/v1/deployments/{b}/heartbeat", json=_beat("door")).status_code == 202
    assert [c["camera_id"] for c in _cameras(running, b)] == ["door"]


def test_people_cannot_beat_and_anonymous_cannot(running: Running, deps: tuple[int, int]) -> None:
    a, _ = deps
    with closing(running.login("op")) as op:
        assert op.post(f"/api/v1/deployments/{a}/heartbeat", json=_beat("cam-7")).status_code == 403
    assert httpx.post(f"{running.url}/api/v1/deployments/{a}/heartbeat", json=_beat("cam-7")).status_code in (401, 403)
    assert "cam-7" not in [c["camera_id"] for c in _cameras(running, a)]


@pytest.mark.parametrize(
    "body",
    [
        _beat("../../etc"),  # a camera id is an id, not a path or a name
        _beat("c" * 65),
        _beat(frames=-1),
        _beat(fps=1e9),
        _beat(age_s=-5),
        _beat(extra="x"),
        {"cameras": [_beat(f"cam-{i}")["cameras"][0] for i in range(65)]},  # too many cameras
        {"cameras": [], "deployment_id": 2},
        {"cameras": [*_beat("cam-1")["cameras"], *_beat("cam-1")["cameras"]]},  # one camera twice
    ],
)
def test_a_malformed_beat_is_refused(running: Running, deps: tuple[int, int], body: dict[str, Any]) -> None:
    a, _ = deps
    with closing(device_client(running, a)) as dev:
        r = dev.post(f"/api/v1/deployments/{a}/heartbeat", json=body)
    assert r.status_code == 422, r.text


def test_a_stopped_deployment_takes_no_beat(running: Running) -> None:
    dep = active_deployment(running)
    with closing(device_client(running, dep)) as dev:
        with closing(running.login("op")) as op:
            assert op.post(f"/api/v1/deployments/{dep}/stop", json={"reason": "done"}).status_code == 200
        r = dev.post(f"/api/v1/deployments/{dep}/heartbeat", json=_beat())
    assert r.status_code in (403, 409), r.text
    assert _cameras(running, dep) == []


def test_a_flood_of_beats_is_refused(running: Running) -> None:
    dep = active_deployment(running)
    with closing(device_client(running, dep)) as dev:
        codes = [dev.post(f"/api/v1/deployments/{dep}/heartbeat", json=_beat()) for _ in range(5)]
    assert [r.status_code for r in codes] == [202, 429, 429, 429, 429], [r.text for r in codes]
    assert codes[1].headers["Retry-After"] == "1"
