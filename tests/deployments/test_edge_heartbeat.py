"""An edge node's heartbeat sender: ``report`` only hands over the latest progress (the pipeline
never waits on the network); a background thread posts it, surviving a centre that is down, and
tries the centre's addresses in order, as the alert outbox does."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from overt.api.testing import free_port
from overt.deployments.edge_heartbeat import EdgeHeartbeat
from overt.deployments.liveness import Liveness
from overt.pipeline.heartbeat import CameraProgress
from tests.api.conftest import Running, start_server
from tests.api.helpers import active_deployment


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    r = start_server(tmp_path / "data")
    yield r
    r.server.stop()
    r.store.db.dispose()


def _until(cond: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _token(running: Running, dep: int) -> str:
    admin = running.login("admin")
    r = admin.post("/api/v1/tokens", json={"name": "edge", "kind": "device", "deployment_id": dep})
    admin.close()
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


def test_the_edge_survives_a_centre_that_is_down_and_tries_addresses_in_order(running: Running) -> None:
    dep = active_deployment(running)
    token = _token(running, dep)
    down = f"http://127.0.0.1:{free_port()}"
    progress = [CameraProgress("cam-1", 40, time.time(), 25.0)]

    alone = EdgeHeartbeat([down], token, every_s=0.1, timeout_s=1.0).start()
    try:
        alone.report(dep, progress)
        _until(lambda: alone.failed >= 2)
        assert alone.sent == 0
        assert Liveness(running.store).health(dep).cameras == ()
    finally:
        alone.close()

    edge = EdgeHeartbeat([down, running.url], token, every_s=0.6, timeout_s=1.0).start()
    try:
        edge.report(dep, progress)
        _until(lambda: edge.sent >= 2)
    finally:
        edge.close()
    (cam,) = Liveness(running.store).health(dep).cameras
    assert (cam.camera_id, cam.source, cam.frames, cam.fps) == ("cam-1", "edge", 40, 25.0)
    assert cam.state in ("live", "stale")  # its age is the time since `progress` was taken
