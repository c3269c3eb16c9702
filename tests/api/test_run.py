"""``overt run`` pieces over a real server and a real pipeline on a test video.

Local: the supervisor starts the pipeline when the deployment is started through the API and
its alert is pushed to a console's WebSocket. Edge: the pipeline posts to a server that is
down at first; the alert waits in the spool and arrives once the server is up.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from overt.api.app import create_app
from overt.api.security import SESSION_COOKIE
from overt.api.settings import ApiSettings
from overt.api.testing import ServerThread, free_port
from overt.config import EngineConfig, build_engine
from overt.deployments.liveness import Liveness
from overt.deployments.runtime import PipelineSupervisor
from overt.deployments.sinks import StoreAlertSink
from overt.pipeline.synthetic import SyntheticClip, face_patches
from overt.samples import sample_image
from overt.vision.engine import FaceEngine
from overt.vision.imageio import read_image
from tests.api.conftest import Running, make_users
from tests.api.helpers import active_deployment, enrol_yaoming

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine() -> FaceEngine:
    return build_engine(EngineConfig())


def make_clip(engine: FaceEngine, path: Path, seconds: float = 3.0) -> Path:
    yao = read_image(sample_image("yaoming"))
    gdp = read_image(sample_image("gdp"))
    target = face_patches(yao, engine.detect(yao))[0]
    bystanders = face_patches(gdp, engine.detect(gdp))[:3]
    clip = SyntheticClip(960, 540, 12.5, seconds, bystanders, target, bystander_face_px=70, target_face_px=(80, 120))
    return clip.write(path)


def serve_data_dir(root: Path, engine: FaceEngine) -> tuple[Running, Any]:
    """A fresh data dir with users and the enrolled face, served on a free port: (running, app)."""
    from overt.store.datadir import init_data_dir

    store = init_data_dir(root / "data")
    make_users(store)
    app = create_app(
        ApiSettings(data_dir=root / "data", secure_cookies=False, alert_poll_s=0.1),
        store=store,
        engine_factory=lambda: engine,
    )
    server = ServerThread(app).start()
    running = Running(server.url, store, root / "data", server)
    enrol_yaoming(running)
    return running, app


@pytest.fixture(scope="module")
def local(
    tmp_path_factory: pytest.TempPathFactory, engine: FaceEngine
) -> Iterator[tuple[Running, PipelineSupervisor, int]]:
    root = tmp_path_factory.mktemp("run")
    clip = make_clip(engine, root / "clip.mp4")
    running, app = serve_data_dir(root, engine)
    store, server = running.store, running.server
    dep = active_deployment(running, start=False)
    svc = app.state.services
    sup = PipelineSupervisor(
        store,
        dep,
        [str(clip)],
        engine_factory=lambda: engine,
        sink_factory=lambda: StoreAlertSink(svc.alerts, dep, notifier=svc.notifier, live=svc.live),
        live=svc.live,
        realtime=False,
        poll_s=0.1,
    ).start()
    yield running, sup, dep
    sup.stop()
    server.stop()
    store.db.dispose()


def test_starting_the_deployment_runs_the_pipeline_and_pushes_its_alert(
    local: tuple[Running, PipelineSupervisor, int],
) -> None:
    running, sup, dep = local
    op = running.login("op")
    assert op.get(f"/api/v1/deployments/{dep}/live").json()["camera_connected"] is False
    sid = op.cookies[SESSION_COOKIE]
    host = running.url.split("://", 1)[1]
    with connect(
        f"ws://{host}/api/v1/ws/alerts",
        additional_headers={"Cookie": f"{SESSION_COOKIE}={sid}", "Origin": running.url},
    ) as ws:
        assert op.post(f"/api/v1/deployments/{dep}/start").status_code == 200
        states: list[str] = []
        while (msg := json.loads(ws.recv(timeout=60)))["type"] == "heartbeat":
            states.append(msg["pipeline"]["state"])
        while "live" not in states:  # the pipeline's heartbeat: frames are being processed now
            beat = json.loads(ws.recv(timeout=10))
            if beat["type"] == "heartbeat":
                states.append(beat["pipeline"]["state"])
    assert msg["type"] == "alert"
    alert = msg["alert"]
    assert alert["deployment_id"] == dep
    assert alert["similarity"] >= 0.45
    assert alert["quality"]["size_px"] > 0
    assert op.get(f"/api/v1/alerts/{alert['id']}/crop.jpg").content.startswith(b"\xff\xd8")
    assert alert["has_scene"] is True
    assert op.get(f"/api/v1/alerts/{alert['id']}/scene").content.startswith(b"\xff\xd8")
    assert op.get(f"/api/v1/deployments/{dep}/live.jpg").content.startswith(b"\xff\xd8")
    assert sup.preview is not None
    assert sup.preview.published >= 1  # redacted frames reach the live view, not only alert thumbnails
    deadline = time.monotonic() + 60
    while sup.status.running and time.monotonic() < deadline:
        time.sleep(0.1)
    live = op.get(f"/api/v1/deployments/{dep}/live").json()
    assert live["camera_connected"] is False
    assert "ended" in live["camera_message"]
    d = op.get(f"/api/v1/deployments/{dep}").json()
    assert d["faces_processed"] >= 1
    assert d["alerts_raised"] >= 1
    assert op.post(f"/api/v1/deployments/{dep}/stop").status_code == 200
    op.close()


def test_edge_spools_while_the_server_is_down_then_delivers(tmp_path: Path, engine: FaceEngine) -> None:
    from overt.alerts.webhook import WebhookSink
    from overt.store.datadir import init_data_dir

    clip = make_clip(engine, tmp_path / "clip.mp4", seconds=2.5)
    store = init_data_dir(tmp_path / "central")
    make_users(store)
    port = free_port()
    app = create_app(
        ApiSettings(data_dir=tmp_path / "central", secure_cookies=False, alert_poll_s=0.1),
        store=store,
        engine_factory=lambda: engine,
    )
    # set up while serving, then take the server down
    server = ServerThread(app, port=port).start()
    running = Running(server.url, store, tmp_path / "central", server)
    enrol_yaoming(running)
    dep = active_deployment(running)
    admin = running.login("admin")
    token = admin.post("/api/v1/tokens", json={"name": "edge", "kind": "device", "deployment_id": dep}).json()["token"]
    admin.close()
    server.stop()
    from overt.alerts.spool import data_dir_spool

    with store.transaction() as tx:
        edge_spool = data_dir_spool(tmp_path / "edge", "alerts", tx.vault.spool_key())
    spool = edge_spool.path
    # the edge machine reads the snapshot from its own view of the store (same database here)
    sup = PipelineSupervisor(
        store,
        dep,
        [str(clip)],
        engine_factory=lambda: engine,
        sink_factory=lambda: WebhookSink(
            f"{running.url}/api/v1/ingest/alerts",
            edge_spool,
            include_images=True,
            headers={"Authorization": f"Bearer {token}"},
            max_attempts=1,
            backoff_s=0.05,
            spool_retry_s=0.2,
            timeout_s=2,
        ),
        realtime=False,
        poll_s=0.1,
    ).start()
    deadline = time.monotonic() + 60
    while not (spool.exists() and spool.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.1)
    with store.transaction() as tx:
        assert tx.alerts.find(dep) == []  # nothing reached the server
    assert spool.read_text().strip(), "the alert was not spooled"
    assert "/9j/" not in spool.read_text()  # sealed: no base64 JPEG in clear
    assert (spool.stat().st_mode & 0o777) == 0o600
    while sup.status.running and time.monotonic() < deadline:  # the clip ends; the spool stays
        time.sleep(0.1)
    server2 = ServerThread(app, port=port).start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with store.transaction() as tx:
                if tx.alerts.find(dep):
                    break
            time.sleep(0.1)
        with store.transaction() as tx:
            found = tx.alerts.find(dep)
        assert found, "the spooled alert never arrived"
        assert found[0].has_crop
        with store.transaction() as tx:  # the edge sent its redacted scene frame; sealed with the alert
            assert tx.alerts.scene(found[0].id).startswith(b"\xff\xd8")
    finally:
        sup.stop()
        server2.stop()
        store.db.dispose()


def two_cameras(
    tmp_path: Path, engine: FaceEngine, seconds: float, **kw: Any
) -> tuple[Running, Any, int, PipelineSupervisor]:
    """A served data dir (and its app), an active deployment and a started supervisor over two
    cameras of one clip, with the console's live view."""
    clip = make_clip(engine, tmp_path / "clip.mp4", seconds=seconds)
    running, app = serve_data_dir(tmp_path, engine)
    dep = active_deployment(running)
    svc = app.state.services
    sup = PipelineSupervisor(
        running.store,
        dep,
        [str(clip), str(clip)],
        engine_factory=lambda: engine,
        sink_factory=lambda: StoreAlertSink(svc.alerts, dep, notifier=svc.notifier),  # no alert thumbnails
        live=svc.live,
        poll_s=0.1,
        **kw,
    ).start()
    return running, app, dep, sup


def test_two_worker_processes_run_the_deployments_cameras(tmp_path: Path, engine: FaceEngine) -> None:
    """``overt run --workers 2``: the supervisor runs the deployment's two cameras in two worker
    processes; both cameras' alerts land in the store, under the one-process camera ids; the
    console's live view gets the first camera's redacted frames back from its worker process."""
    from overt.config import PipelineConfig

    running, app, dep, sup = two_cameras(
        tmp_path, engine, 2.5, pipeline_config=PipelineConfig(workers=2), engine_config=EngineConfig(), realtime=False
    )
    store, server, svc = running.store, running.server, app.state.services
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not (sup.status.runs and not sup.status.running):
            time.sleep(0.2)
        assert sup.status.runs == 1, sup.status
        assert not sup.status.running, "the clips did not end"
        assert sup.status.failed is None, sup.status
        with store.transaction() as tx:
            found = tx.alerts.find(dep)
        assert sorted({a.camera_id for a in found}) == ["cam-1", "cam-2"]
        assert sup.status.faces >= 2
        assert sup.preview is not None
        assert sup.preview.published >= 1  # redacted previews from the worker, not alert thumbnails
        state = svc.live.get(dep)
        assert state is not None
        assert state.frame_jpeg is not None
        assert state.frame_jpeg.startswith(b"\xff\xd8")
        # each worker process sent its camera's heartbeat back; both are in the database
        beats = Liveness(store).health(dep).cameras
        assert [(c.camera_id, c.source) for c in beats] == [("cam-1", "pipeline"), ("cam-2", "pipeline")]
        assert all(c.frames > 0 for c in beats)
    finally:
        sup.stop()
        server.stop()
        store.db.dispose()


def test_every_camera_of_a_local_pipeline_beats(tmp_path: Path, engine: FaceEngine) -> None:
    """Two cameras in one pipeline: the console's health (read from the database, as any API process
    would) shows each of them live while its frames are processed, then not live once they end."""
    running, _, dep, sup = two_cameras(tmp_path, engine, 4.0, realtime=True)
    store, server = running.store, running.server
    op = running.login("op")
    seen_live: set[str] = set()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (sup.status.runs and not sup.status.running):
            h = op.get(f"/api/v1/pipeline/health?deployment_id={dep}").json()
            seen_live |= {c["camera_id"] for c in h["cameras"] if c["state"] == "live"}
            time.sleep(0.2)
        assert seen_live == {"cam-1", "cam-2"}, seen_live
        cams = op.get(f"/api/v1/pipeline/health?deployment_id={dep}").json()["cameras"]
        assert [c["camera_id"] for c in cams] == ["cam-1", "cam-2"]
        assert all(c["frames"] > 0 and c["fps"] >= 0 for c in cams)
    finally:
        op.close()
        sup.stop()
        server.stop()
        store.db.dispose()
