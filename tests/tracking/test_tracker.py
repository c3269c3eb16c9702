from __future__ import annotations

import numpy as np
import pytest

from overt.domain.detections import FaceDetections
from overt.errors import ConfigError
from overt.tracking import IouTracker, iou_matrix


def dets(boxes: list[tuple[float, float, float, float]], scores: list[float] | None = None) -> FaceDetections:
    n = len(boxes)
    xyxy = np.array(boxes, np.float32).reshape(n, 4)
    lms = np.zeros((n, 5, 2), np.float32)
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        lms[i] = [[x1 + 0.3 * (x2 - x1), y1 + 0.4 * (y2 - y1)]] * 5
    return FaceDetections(xyxy, np.array(scores or [0.9] * n, np.float32), lms)


def step(tr: IouTracker, i: int, d: FaceDetections):  # type: ignore[no-untyped-def]
    return tr.update(d, frame_index=i, pts_s=i / 25, captured_monotonic_s=float(i))


def test_iou_matrix() -> None:
    a = np.array([[0, 0, 10, 10]], np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], np.float32)
    np.testing.assert_allclose(iou_matrix(a, b), [[1.0, 1 / 3, 0.0]], atol=1e-6)
    assert iou_matrix(a, np.zeros((0, 4), np.float32)).shape == (1, 0)


def test_moving_faces_keep_their_ids() -> None:
    tr = IouTracker("cam")
    ids_a: set[int] = set()
    ids_b: set[int] = set()
    for i in range(50):
        d = dets([(10 + 3 * i, 10, 60 + 3 * i, 60), (400 - 2 * i, 200, 460 - 2 * i, 260)])
        u = step(tr, i, d)
        assert len(u.faces) == 2
        for f in u.faces:
            (ids_a if f.detection_index == 0 else ids_b).add(f.track_id)
    assert len(ids_a) == 1
    assert len(ids_b) == 1
    assert ids_a != ids_b
    assert tr.tracks_started == 2


def test_first_frame_marks_new_and_carries_start_times() -> None:
    tr = IouTracker("cam")
    u0 = step(tr, 3, dets([(0, 0, 50, 50)]))
    u1 = step(tr, 4, dets([(2, 0, 52, 50)]))
    assert u0.faces[0].is_new
    assert not u1.faces[0].is_new
    assert u1.faces[0].first_frame_index == 3
    assert u1.faces[0].hits == 2
    assert u1.faces[0].first_seen_monotonic_s == 3.0


def test_missed_frames_are_tolerated_then_the_track_ends() -> None:
    tr = IouTracker("cam", max_missed_frames=3)
    tid = step(tr, 0, dets([(0, 0, 50, 50)])).faces[0].track_id
    for i in range(1, 4):
        u = step(tr, i, FaceDetections.empty())
        assert u.ended == ()
        assert u.coasting_ids == (tid,)
    u = step(tr, 4, dets([(1, 0, 51, 50)]))
    assert u.faces[0].track_id == tid  # came back within the tolerance
    for i in range(5, 9):
        u = step(tr, i, FaceDetections.empty())
    assert u.ended == (tid,)
    assert tr.active_count == 0
    u = step(tr, 9, dets([(1, 0, 51, 50)]))
    assert u.faces[0].track_id != tid
    assert u.faces[0].is_new


def test_low_score_detections_extend_but_never_start_tracks() -> None:
    tr = IouTracker("cam", high_score=0.6, low_score=0.3)
    assert step(tr, 0, dets([(0, 0, 50, 50)], [0.4])).faces == ()
    tid = step(tr, 1, dets([(0, 0, 50, 50)], [0.9])).faces[0].track_id
    u = step(tr, 2, dets([(2, 0, 52, 50)], [0.35]))  # motion blur: low score, same place
    assert [f.track_id for f in u.faces] == [tid]
    assert tr.tracks_started == 1


def test_coast_predicts_with_velocity_and_ends_nothing() -> None:
    tr = IouTracker("cam")
    for i in range(5):
        step(tr, i, dets([(10 * i, 0, 10 * i + 50, 50)]))
    u = tr.coast(5)
    assert not u.detected
    assert u.ended == ()
    assert u.coasting_xyxy[0, 0] > 40  # moved on from x=40


def test_end_all_drops_every_track() -> None:
    tr = IouTracker("cam")
    step(tr, 0, dets([(0, 0, 50, 50), (100, 0, 150, 50)]))
    assert len(tr.end_all()) == 2
    assert tr.active_count == 0


def test_invalid_settings() -> None:
    with pytest.raises(ConfigError):
        IouTracker("cam", high_score=0.3, low_score=0.5)
    with pytest.raises(ConfigError):
        IouTracker("cam", max_missed_frames=-1)


def test_fast_motion_without_overlap_keeps_the_track() -> None:
    tr = IouTracker("cam")
    tid = step(tr, 0, dets([(0, 0, 90, 90)])).faces[0].track_id
    u = step(tr, 2, dets([(65, 5, 155, 95)]))  # moved 65 px between detections: IoU ~0.15
    assert [f.track_id for f in u.faces] == [tid]
    u = step(tr, 4, dets([(400, 0, 490, 90)]))  # far away: a different face
    assert u.faces[0].track_id != tid
