""" "Live" means a frame was processed within LIVE_WITHIN_S; nothing reported means "none".
Each camera counts its own frames; a report carries the age of the last one."""

from __future__ import annotations

import pytest

from overt.errors import InputError
from overt.pipeline.heartbeat import (
    DOWN_AFTER_S,
    LIVE_WITHIN_S,
    CameraReport,
    ProgressBoard,
    classify,
    health,
    reports,
)
from overt.store.repositories.heartbeats import StoredBeat


def test_classify_by_age() -> None:
    assert classify(None) == "none"
    assert classify(0.0) == "live"
    assert classify(LIVE_WITHIN_S + 0.1) == "stale"
    assert classify(DOWN_AFTER_S + 0.1) == "down"


def test_every_camera_counts_its_own_frames_and_reports_their_age() -> None:
    now = [1000.0]
    board = ProgressBoard(["cam-1", "cam-2"], clock=lambda: now[0])
    assert reports(board.snapshot(), now[0]) == ()  # no frame yet: nothing to report
    for _ in range(10):
        now[0] += 0.04
        board.processed("cam-1")
    board.processed("cam-2")
    now[0] += 2.0
    got = {r.camera_id: r for r in reports(board.snapshot(), now[0])}
    assert got["cam-1"].frames == 10
    assert got["cam-1"].fps == pytest.approx(25.0, rel=0.01)
    assert got["cam-1"].age_s == pytest.approx(2.0)
    assert got["cam-2"].frames == 1
    assert got["cam-2"].age_s == pytest.approx(2.0)


def test_per_camera_and_overall_health() -> None:
    assert health([], 1000.0).state == "none"
    rows = [
        StoredBeat(1, "cam-2", 999.0, 50, 25.0, "edge"),
        StoredBeat(1, "cam-1", 1000.0 - LIVE_WITHIN_S - 1, 9, 0.0, "pipeline"),
    ]
    h = health(rows, 1000.0)
    got = [(c.camera_id, c.state, c.source) for c in h.cameras]
    assert got == [("cam-1", "stale", "pipeline"), ("cam-2", "live", "edge")]
    assert h.state == "live"
    assert health(rows, 1000.0 + DOWN_AFTER_S + 1).state == "down"
    assert health([StoredBeat(1, "cam-1", 1005.0, 1, 0.0, "edge")], 1000.0).cameras[0].age_s == 0.0  # never negative


def test_a_report_is_validated() -> None:
    for bad in (("", 1, 1.0, 0.0), ("c" * 65, 1, 1.0, 0.0), ("cam", -1, 1.0, 0.0), ("cam", 1, 1e6, 0.0)):
        with pytest.raises(InputError):
            CameraReport(*bad)
    with pytest.raises(InputError):
        CameraReport("cam", 1, 1.0, float("nan"))
