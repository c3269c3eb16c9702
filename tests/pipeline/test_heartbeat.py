""" "Live" means a frame was processed within LIVE_WITHIN_S; nothing reported means "none"."""

from __future__ import annotations

from overt.pipeline.heartbeat import DOWN_AFTER_S, LIVE_WITHIN_S, Heartbeats, classify


def test_classify_by_age() -> None:
    assert classify(None) == "none"
    assert classify(0.0) == "live"
    assert classify(LIVE_WITHIN_S + 0.1) == "stale"
    assert classify(DOWN_AFTER_S + 0.1) == "down"


def test_heartbeats_per_camera_and_overall() -> None:
    now = [1000.0]
    hb = Heartbeats(clock=lambda: now[0])
    assert hb.health().state == "none"
    assert hb.health().cameras == ()
    hb.beat(1, "cam-1")
    hb.beat(1, "cam-2")
    now[0] += LIVE_WITHIN_S + 1
    hb.beat(1, "cam-2")
    h = hb.health()
    assert [(c.camera_id, c.state, c.frames) for c in h.cameras] == [("cam-1", "stale", 1), ("cam-2", "live", 2)]
    assert h.state == "live"
    now[0] += DOWN_AFTER_S + 1
    assert hb.health(1).state == "down"
    assert hb.health(2).state == "none"
    hb.forget(1)
    assert hb.health().state == "none"
