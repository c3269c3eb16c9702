"""Camera heartbeats across real processes (issue 11, "never lying"): what the centre's console
says about a camera comes from the database, whichever process runs its pipeline.

* An edge node (``overt run --server``, its own process) posts its camera's heartbeat to the
  centre (``overt serve``, another process): the centre reports the camera LIVE (source ``edge``)
  within seconds, and STALE or DOWN once the edge is killed.
* On PostgreSQL a beat written by one process is seen by another ``overt serve`` process, and a
  beat posted to that process is seen by the first.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from overt.api.security import SESSION_COOKIE
from overt.api.testing import free_port
from overt.config import EngineConfig, build_engine
from overt.deployments.liveness import Liveness
from overt.pipeline.heartbeat import CameraProgress
from overt.store.datadir import init_data_dir
from tests.api.conftest import Running, make_users
from tests.api.helpers import active_deployment, enrol_yaoming
from tests.api.test_run import make_clip
from tests.scale.test_multiprocess import Procs, healthy, login, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    p = Procs(tmp_path)
    yield p
    p.stop()


def _cameras(c: httpx.Client, dep: int) -> list[dict[str, Any]]:
    r = c.get(f"/api/v1/pipeline/health?deployment_id={dep}")
    assert r.status_code == 200, r.text
    return list(r.json()["cameras"])


def _device_token(url: str, dep: int) -> str:
    with closing(login(url, "admin")) as admin:
        r = admin.post("/api/v1/tokens", json={"name": "edge", "kind": "device", "deployment_id": dep})
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


def test_an_edge_node_beats_to_the_centre_and_goes_stale_when_killed(procs: Procs, tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = init_data_dir(data)
    make_users(store)
    url = f"http://127.0.0.1:{free_port()}"
    procs.start("centre", "serve", "--data-dir", str(data), "--port", url.rsplit(":", 1)[1], "--insecure-cookies")
    clip = make_clip(build_engine(EngineConfig()), tmp_path / "clip.mp4", seconds=30.0)
    wait_for(lambda: healthy(url), 60, "the centre")
    running = Running(url, store, data, None)  # type: ignore[arg-type]
    enrol_yaoming(running)
    dep = active_deployment(running)
    token = _device_token(url, dep)
    op = login(url, "op")
    assert _cameras(op, dep) == []  # only `overt serve`: nothing says live

    # the edge reads its snapshot from its own view of the data (the same files here); it writes no
    # heartbeat there: the centre hears of its camera only through the heartbeat route
    log = (tmp_path / "edge.log").open("wb")
    edge = subprocess.Popen(
        [sys.executable, "-m", "overt", "run", "--data-dir", str(data), "--deployment", str(dep), "--source", str(clip),
         "--server", "http://127.0.0.1:9", "--server", url],  # the first address is down: the next is tried

        env={**procs_env(), "OVERT_DEVICE_TOKEN": token},
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    log.close()  # the child keeps its own descriptor
    procs.all.append(edge)
    t0 = time.monotonic()
    live = wait_for(
        lambda: [c for c in _cameras(op, dep) if c["state"] == "live"] or edge.poll() is not None,
        120,
        "the edge camera to be live at the centre",
    )
    assert edge.poll() is None, (tmp_path / "edge.log").read_text()[-3000:]
    print(f"edge camera live at the centre {time.monotonic() - t0:.1f} s after the edge started (engine load incl.)")
    assert [(c["camera_id"], c["source"]) for c in live] == [("cam-1", "edge")]
    view = op.get(f"/api/v1/deployments/{dep}/live").json()  # the deployment page's camera pill
    assert view["processing"] is True, view
    # the console's feed says the same (the alert WebSocket's heartbeat)
    host = url.split("://", 1)[1]
    headers = {"Cookie": f"{SESSION_COOKIE}={op.cookies[SESSION_COOKIE]}", "Origin": url}
    with connect(f"ws://{host}/api/v1/ws/alerts", additional_headers=headers) as ws:
        while (msg := json.loads(ws.recv(timeout=10)))["type"] != "heartbeat":
            pass
    assert msg["pipeline"]["state"] == "live"
    assert [(c["camera_id"], c["deployment_id"], c["source"]) for c in msg["pipeline"]["cameras"]] == [
        ("cam-1", dep, "edge")
    ]
    frames = live[0]["frames"]
    wait_for(lambda: _cameras(op, dep)[0]["frames"] > frames, 15, "the frame count to grow")

    edge.send_signal(signal.SIGKILL)
    edge.wait()
    killed = time.monotonic()
    gone = wait_for(
        lambda: [c for c in _cameras(op, dep) if c["state"] in ("stale", "down")], 30, "the camera to go stale"
    )
    print(f"edge killed -> camera {gone[0]['state']} at the centre after {time.monotonic() - killed:.1f} s")
    assert gone[0]["camera_id"] == "cam-1"
    assert gone[0]["age_s"] >= 1.0
    assert op.get(f"/api/v1/deployments/{dep}/live").json()["processing"] is False
    op.close()
    store.db.dispose()


def procs_env() -> dict[str, str]:
    root = Path(__file__).resolve().parents[2]
    return {**os.environ, "PYTHONPATH": f"{root / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


@pytest.mark.postgres
def test_a_beat_written_by_one_process_is_seen_by_another_on_postgresql(
    postgres_url: str, procs: Procs, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    store = init_data_dir(data, database_url_=postgres_url)
    make_users(store)
    url = f"http://127.0.0.1:{free_port()}"
    procs.start("api", "serve", "--data-dir", str(data), "--port", url.rsplit(":", 1)[1], "--insecure-cookies")
    wait_for(lambda: healthy(url), 60, "overt serve")
    running = Running(url, store, data, None)  # type: ignore[arg-type]
    dep = active_deployment(running)
    op = login(url, "op")
    assert _cameras(op, dep) == []
    # this process runs a pipeline (as `overt run` or `overt worker` would): the other serves its beat
    here = Liveness(store, read_cache_s=0.0)
    here.report(dep, [CameraProgress("cam-1", 250, time.time() - 0.5, 25.0)])
    cams = wait_for(lambda: _cameras(op, dep), 5, "the beat at the other process")  # it caches reads 0.5 s
    assert [(c["camera_id"], c["state"], c["frames"], c["source"]) for c in cams] == [
        ("cam-1", "live", 250, "pipeline")
    ]
    # an edge posts to the other process: this one sees it
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {_device_token(url, dep)}"}) as dev:
        body = {"cameras": [{"camera_id": "cam-2", "frames": 7, "fps": 12.5, "age_s": 0.2}]}
        r = dev.post(f"/api/v1/deployments/{dep}/heartbeat", json=body)
    assert r.status_code == 202, r.text
    got = [(c.camera_id, c.state, c.source) for c in here.health(dep).cameras]
    assert got == [("cam-1", "live", "pipeline"), ("cam-2", "live", "edge")]
    op.close()
    store.db.dispose()
