"""Attack: a pipeline leader paused (not dead) past its lease keeps writing after a takeover.

Real processes on PostgreSQL: two ``overt worker`` processes compete for a deployment's lease
(TTL 2 s). The leader is frozen with SIGSTOP (as a long GC pause or a frozen VM would), the
standby takes the lease over (fencing token 2) and runs the camera; the old leader is resumed
with SIGCONT. Every write it still makes carries token 1 and is refused by the store in the
write's own transaction: none of its alerts after the takeover is stored, it stops its
pipeline (and stays as a standby), and exactly one worker runs the camera.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import cv2
import psycopg
import pytest

from overt.api.app import create_app
from overt.api.pg_notifier import libpq_conninfo
from overt.api.settings import ApiSettings
from overt.api.testing import ServerThread
from overt.config import EngineConfig, build_engine
from overt.pipeline.synthetic import SyntheticClip, face_patches
from overt.samples import sample_image
from overt.store.datadir import init_data_dir
from overt.vision.engine import FaceEngine
from overt.vision.imageio import read_image
from tests.api.conftest import Running, make_users
from tests.api.helpers import active_deployment, enrol_yaoming
from tests.scale.test_multiprocess import Procs, lease_holder, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def _clip(engine: FaceEngine, path: Path, segments: int = 12) -> Path:
    """The enrolled face walks in and out every 3 s, so the leader raises an alert every 3 s."""
    yao = read_image(sample_image("yaoming"))
    target = face_patches(yao, engine.detect(yao))[0]
    seg = SyntheticClip(
        640, 360, 12.5, 3.0, [], target, target_face_px=(90, 120), target_from_s=0.2, target_until_s=1.4
    )
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), seg.fps, (seg.width_px, seg.height_px))
    try:
        for _ in range(segments):
            for frame in seg.frames():
                writer.write(frame)
    finally:
        writer.release()
    return path


def _alerts_by_epoch(conninfo: str) -> dict[int, int]:
    with psycopg.connect(conninfo, autocommit=True) as c:
        rows = c.execute(
            "SELECT (details_json::json ->> 'lease_epoch')::int, count(*) FROM alert_details GROUP BY 1"
        ).fetchall()
    return {int(e): int(n) for e, n in rows if e is not None}


def _epoch(conninfo: str, dep: int) -> int:
    with psycopg.connect(conninfo, autocommit=True) as c:
        row = c.execute("SELECT epoch FROM leases WHERE name = %s", (f"deployment:{dep}",)).fetchone()
    return 0 if row is None else int(row[0])


def _said(log: str) -> list[str]:
    """The worker's own lines about its lead ("leading deployment ..." / "... released (why)")."""
    return [line for line in log.splitlines() if line.startswith("worker: ")]


def test_a_leader_resumed_after_a_takeover_is_fenced(postgres_url: str, tmp_path: Path) -> None:
    engine = build_engine(EngineConfig())
    data = tmp_path / "data"
    store = init_data_dir(data, database_url_=postgres_url)
    make_users(store)
    app = create_app(ApiSettings(data_dir=data, secure_cookies=False), store=store, engine_factory=lambda: engine)
    server = ServerThread(app).start()
    procs = Procs(tmp_path)
    try:
        running = Running(server.url, store, data, server)
        enrol_yaoming(running)
        dep = active_deployment(running)
        clip = _clip(engine, tmp_path / "clip.mp4")
        db = libpq_conninfo(store.db.url)
        args = ["worker", "--data-dir", str(data), "--deployment", str(dep), "--source", str(clip), "--lease-ttl", "2"]
        workers = {name: procs.start(name, *args) for name in ("w1", "w2")}
        for name, p in workers.items():
            wait_for(lambda p=p, n=name: "Ctrl-C stops" in procs.log(n) or p.poll() is not None, 90, f"{name}")  # type: ignore[misc]
            assert p.poll() is None, procs.log(name)
        holder = wait_for(lambda: lease_holder(db, dep), 30, "a worker to lead")
        old = next(n for n, p in workers.items() if p.pid == int(holder.split(":")[1]))
        new = next(n for n in workers if n != old)
        wait_for(lambda: _alerts_by_epoch(db).get(1, 0) >= 1, 60, "the first leader's alert")

        workers[old].send_signal(signal.SIGSTOP)  # paused, not dead: its threads and connections stay
        try:
            wait_for(lambda: _epoch(db, dep) == 2, 20, "the standby to take the lease over")
            wait_for(lambda: _alerts_by_epoch(db).get(2, 0) >= 1, 30, "the new leader's alert")
            before = _alerts_by_epoch(db).get(1, 0)
        finally:
            workers[old].send_signal(signal.SIGCONT)
        wait_for(lambda: "released" in procs.log(old), 10, "the old leader to stop its pipeline")
        time.sleep(3.5)  # a full cycle of the face: the old leader would have raised another alert
        after = _alerts_by_epoch(db)
        old_log, new_log = procs.log(old), procs.log(new)
        print(f"alerts by fencing token: {after}; old leader refused a stale write: {'refused as stale' in old_log}")

        assert after.get(1, 0) == before, old_log  # nothing of the old leader's after the takeover
        assert after.get(2, 0) >= 1
        assert lease_holder(db, dep) not in (None, holder)
        # exactly one worker runs the camera: the old one stopped its pipeline and stays a standby
        assert "released" in _said(old_log)[-1], old_log
        assert "leading" in _said(new_log)[-1], new_log
        assert all(p.poll() is None for p in workers.values())
    finally:
        procs.stop()
        server.stop()
        store.db.dispose()
