"""Removing a watch-list entry takes the subject out of a running deployment within 5 s.

The deployment is authorised (its sealed snapshot holds the subject) and started; its pipeline
is running on a camera where the subject walks in later. The entry is removed through the API:
the runtime sees the tombstone, drops the subject (audited for the deployment) and raises no
alert when he appears. The removal reason is kept, sealed, and readable by an auditor only.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from overt.alerts.sinks import AlertSink
from overt.api.app import create_app
from overt.api.settings import ApiSettings
from overt.api.testing import ServerThread
from overt.config import EngineConfig, build_engine
from overt.deployments.runtime import PipelineSupervisor
from overt.deployments.sinks import StoreAlertSink
from overt.pipeline.synthetic import SyntheticClip, face_patches
from overt.samples import sample_image
from overt.store.models import WatchlistEntryRow
from overt.vision.imageio import read_image
from overt.watchlist.entries import WatchlistService
from tests.api.conftest import PASSWORDS, Running, make_users
from tests.api.helpers import active_deployment, enrol_yaoming

pytestmark = pytest.mark.slow


def _audit(running: Running, action: str) -> list[str]:
    with running.store.transaction() as tx:
        return [e.target for e in tx.audit.entries() if e.action == action]


def test_removed_subject_stops_alerting_in_a_started_deployment(tmp_path: Path) -> None:
    from overt.store.datadir import init_data_dir

    engine = build_engine(EngineConfig())
    yao = read_image(sample_image("yaoming"))
    gdp = read_image(sample_image("gdp"))
    clip = SyntheticClip(
        640,
        360,
        10.0,
        7.0,
        face_patches(gdp, engine.detect(gdp))[:2],
        face_patches(yao, engine.detect(yao))[0],
        bystander_face_px=60,
        target_face_px=(80, 110),
        target_from_s=4.0,
    ).write(tmp_path / "clip.mp4")
    store = init_data_dir(tmp_path / "data")
    make_users(store)
    app = create_app(ApiSettings(data_dir=tmp_path / "data", secure_cookies=False), store=store)
    server = ServerThread(app).start()
    running = Running(server.url, store, tmp_path / "data", server)
    sinks: list[StoreAlertSink] = []

    def sink() -> AlertSink:
        sinks.append(StoreAlertSink(app.state.services.alerts, dep))
        return sinks[-1]

    try:
        entry = enrol_yaoming(running)
        dep = active_deployment(running, start=True)
        sup = PipelineSupervisor(
            store, dep, [str(clip)], engine_factory=lambda: engine, sink_factory=sink, realtime=True, poll_s=0.1
        ).start()
        deadline = time.monotonic() + 30
        while not sup.status.running and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sup.status.running
        assert _audit(running, "snapshot.entry_revoked") == []
        wm = running.login("wm")
        t0 = time.monotonic()
        r = wm.request("DELETE", f"/api/v1/watchlist/entries/{entry}", json={"reason": "warrant withdrawn 12/4"})
        assert r.status_code == 204, r.text
        wm.close()
        # Audited for the deployment whose snapshot held the entry, at removal ...
        assert _audit(running, "snapshot.entry_revoked") == [f"deployment:{dep}"]
        # ... and dropped from its running pipeline within 5 s.
        while not _audit(running, "snapshot.entry_dropped") and time.monotonic() - t0 < 5:
            time.sleep(0.05)
        assert _audit(running, "snapshot.entry_dropped") == [f"deployment:{dep}"]
        assert time.monotonic() - t0 < 5
        deadline = time.monotonic() + 60
        while sup.status.running and time.monotonic() < deadline:
            time.sleep(0.1)
        sup.stop()
        assert sup.status.runs == 1
        assert sup.status.faces > 0  # the subject's face was searched, and matched nobody
        assert sum(s.stored for s in sinks) == 0
        assert sup.status.alerts == 0
        # The reason is kept, sealed (bound to its row), and readable through the service.
        with store.db.session() as s:
            row = s.scalars(select(WatchlistEntryRow).where(WatchlistEntryRow.id == entry)).one()
            assert row.removal_reason_blob is not None
            assert b"withdrawn" not in row.removal_reason_blob
        from overt.users import UserService

        aud = UserService(store).authenticate("aud", PASSWORDS["aud"])
        assert WatchlistService(store, engine).removal_reason(aud, entry) == "warrant withdrawn 12/4"
        assert httpx.get(f"{running.url}/api/v1/health").status_code == 200
    finally:
        server.stop()
        store.db.dispose()
