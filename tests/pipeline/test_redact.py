from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from overt.pipeline.counters import CounterBoard
from overt.pipeline.redact import LabelledBox, blur_boxes, inclusive_blur, redacted_frame, thumbnail_jpeg


def test_blur_removes_the_face_and_keeps_the_rest(yaoming_bgr: npt.NDArray[np.uint8]) -> None:
    from overt.vision.detectors.scrfd import ScrfdDetector

    det = ScrfdDetector()
    dets = det.detect(yaoming_bgr)
    assert len(dets) == 1
    img = yaoming_bgr.copy()
    blur_boxes(img, dets.xyxy)
    assert len(det.detect(img)) == 0
    assert np.array_equal(img[:5, :5], yaoming_bgr[:5, :5])  # outside the padded box: untouched


def test_redacted_frame_labels_alerts_and_leaves_the_input_alone(yaoming_bgr: npt.NDArray[np.uint8]) -> None:
    before = yaoming_bgr.copy()
    out = redacted_frame(
        yaoming_bgr, np.zeros((0, 4), np.float32), [LabelledBox(np.array([50, 50, 150, 180], np.float32), "S-1 0.90")]
    )
    assert np.array_equal(yaoming_bgr, before)
    assert not np.array_equal(out, before)
    jpeg = thumbnail_jpeg(out, 100)
    small = np.asarray(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR))
    assert max(small.shape[:2]) == 100


def test_counter_board_snapshot() -> None:
    board = CounterBoard(cameras=2)
    board.add(frames=10, faces_seen=4)
    board.set_source_dropped("a", 3)
    board.add(pipeline_dropped=1)
    for ms in (100.0, 200.0, 300.0):
        board.alert_latency(ms)
    board.finish()
    c = board.snapshot()
    assert c.frames == 10
    assert c.frames_dropped == 4
    assert c.alerts == 3
    assert c.alert_latency_ms_p50 == 200.0
    assert c.as_dict()["cameras"] == 2


def test_inclusive_blur_keeps_only_faint_boxes_that_are_not_an_alerted_face() -> None:
    tracked = np.array([[0, 0, 10, 10]], np.float32)
    alerted = np.array([[100, 100, 200, 200]], np.float32)
    faint = np.array(
        [
            [300, 300, 320, 320],  # elsewhere: a bystander, blurred
            [160, 100, 260, 200],  # IoU 0.25 with the alerted face: taken for it
            [120, 120, 150, 150],  # centred inside it (a part of it): taken for it
            [190, 190, 290, 290],  # touches its corner (IoU 0.01, centre outside): a bystander
        ],
        np.float32,
    )
    out = inclusive_blur(tracked, faint, alerted, keep_iou=0.2)
    assert out.tolist() == [[0, 0, 10, 10], [300, 300, 320, 320], [190, 190, 290, 290]]
    assert inclusive_blur(tracked, faint, np.zeros((0, 4), np.float32), keep_iou=0.2).shape == (5, 4)
    assert inclusive_blur(tracked, np.zeros((0, 4), np.float32), alerted, keep_iou=0.2).tolist() == [[0, 0, 10, 10]]
