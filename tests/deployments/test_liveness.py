"""Camera heartbeats in the database, on SQLite and PostgreSQL: upserted at most once a second per
camera, dated by the database's clock from the reported age, never going backwards; read by any
store on the same database (another API process); only active deployments' cameras are shown."""

from __future__ import annotations

import pytest

from overt.crypto.keys import MemoryKeyStore
from overt.deployments import DeploymentService
from overt.deployments.liveness import Liveness
from overt.domain.clock import FakeClock
from overt.domain.users import User
from overt.errors import GovernanceError
from overt.pipeline.heartbeat import LIVE_WITHIN_S, CameraReport
from overt.store import Store
from tests.gov_helpers import plan, publish_late, users
from tests.store_fixtures import OpenStore


def _active(store: Store, clock: FakeClock) -> tuple[int, User]:
    u = users(store)
    svc = DeploymentService(store)
    d = svc.create(u["op"], plan(clock.now()))
    svc.authorise(u["officer"], d.id)
    publish_late(svc, u, d.id)
    svc.start(u["op"], d.id)
    return d.id, u["op"]


def test_a_beat_written_by_one_store_is_seen_by_another(open_store: OpenStore, clock: FakeClock) -> None:
    keys = MemoryKeyStore()
    writer_store, reader_store = open_store(keys), open_store(keys)  # two processes' views of one database
    dep, _ = _active(writer_store, clock)
    ticks = [0.0]
    writer = Liveness(writer_store, clock=lambda: ticks[0])
    reader = Liveness(reader_store, read_cache_s=0.0)
    assert reader.health().state == "none"
    assert writer.record(dep, [CameraReport("cam-1", 10, 25.0, 0.2), CameraReport("cam-2", 5, 12.5, 0.1)]) == 2
    h = reader.health(dep)
    assert h.state == "live"
    assert [(c.camera_id, c.frames, c.fps, c.source) for c in h.cameras] == [
        ("cam-1", 10, 25.0, "pipeline"),
        ("cam-2", 5, 12.5, "pipeline"),
    ]
    assert all(0.0 <= c.age_s < LIVE_WITHIN_S for c in h.cameras)
    # at most one write per camera a second
    assert writer.record(dep, [CameraReport("cam-1", 11, 25.0, 0.0)]) == 0
    assert [c.frames for c in reader.health(dep).cameras] == [10, 5]
    ticks[0] += 1.0
    # a late report (older frame) updates the counters but never moves the last frame back
    before = reader.health(dep).cameras[0].last_frame_at_s
    assert writer.record(dep, [CameraReport("cam-1", 12, 25.0, 600.0)]) == 1
    cam1 = reader.health(dep).cameras[0]
    assert cam1.frames == 12
    assert cam1.last_frame_at_s >= before
    assert reader.health(dep + 1).cameras == ()
    ticks[0] += 1.0  # one camera twice in a report: the last one counts (one row per statement)
    assert writer.record(dep, [CameraReport("cam-2", 6, 1.0, 0.0), CameraReport("cam-2", 7, 1.0, 0.0)]) == 1
    assert reader.health(dep).cameras[1].frames == 7


def test_an_old_frame_is_stale_and_a_stopped_deployment_shows_nothing(store: Store, clock: FakeClock) -> None:
    dep, op = _active(store, clock)
    live = Liveness(store, read_cache_s=0.0)
    live.record(dep, [CameraReport("cam-1", 3, 1.0, LIVE_WITHIN_S + 2)])
    assert live.health(dep).state == "stale"
    live.record_device(dep, [CameraReport("cam-9", 3, 1.0, 0.0)])
    assert [c.source for c in live.health(dep).cameras] == ["pipeline", "edge"]
    DeploymentService(store).stop(op, dep, "end of operation")
    assert live.health().state == "none"  # only active deployments' cameras
    with pytest.raises(GovernanceError):
        live.record_device(dep, [CameraReport("cam-9", 4, 1.0, 0.0)])
