from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from overt.vision.align import ARCFACE_TEMPLATE_112, align_face
from overt.vision.detectors.scrfd import ScrfdDetector
from overt.vision.quality import measure_quality, pose_from_landmarks, sharpness


def rotate(points: npt.NDArray[np.float64], deg: float) -> npt.NDArray[np.float64]:
    a = math.radians(deg)
    r = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    c = points.mean(axis=0)
    return np.asarray((points - c) @ r.T + c, np.float64)


def test_frontal_template_is_frontal() -> None:
    yaw, roll = pose_from_landmarks(ARCFACE_TEMPLATE_112)
    assert abs(yaw) < 5
    assert abs(roll) < 1


@pytest.mark.parametrize("roll", [-40.0, -10.0, 0.0, 15.0, 60.0])
def test_known_roll(roll: float) -> None:
    yaw, got = pose_from_landmarks(rotate(ARCFACE_TEMPLATE_112, roll))
    assert got == pytest.approx(roll, abs=0.5)
    assert abs(yaw) < 5  # rolling does not look like turning


def test_yaw_sign_follows_the_nose() -> None:
    lms = ARCFACE_TEMPLATE_112.copy()
    right = lms.copy()
    right[2, 0] += 10
    right[3:, 0] += 5
    left = lms.copy()
    left[2, 0] -= 10
    left[3:, 0] -= 5
    yaw_r, _ = pose_from_landmarks(right)
    yaw_l, _ = pose_from_landmarks(left)
    assert yaw_r > 15
    assert yaw_l < -15
    assert yaw_r == pytest.approx(-yaw_l, abs=3)
    extreme = lms.copy()
    extreme[2:, 0] += 200
    assert pose_from_landmarks(extreme)[0] == pytest.approx(90.0)


def test_coincident_eyes_do_not_crash() -> None:
    lms = np.zeros((5, 2))
    yaw, roll = pose_from_landmarks(lms)
    assert math.isfinite(yaw)
    assert math.isfinite(roll)


def test_sharpness_drops_after_blur(yaoming_bgr: npt.NDArray[np.uint8]) -> None:
    dets = ScrfdDetector().detect(yaoming_bgr)
    crop = align_face(yaoming_bgr, dets.landmarks5[0])
    blurred = np.asarray(cv2.GaussianBlur(crop, (0, 0), 2.0), np.uint8)
    assert sharpness(blurred) < 0.5 * sharpness(crop)
    assert sharpness(np.full((112, 112, 3), 80, np.uint8)) == 0.0
    # Scale-independent: a bigger crop of the same content scores about the same.
    big = np.asarray(cv2.resize(crop, (224, 224), interpolation=cv2.INTER_CUBIC), np.uint8)
    assert sharpness(big) == pytest.approx(sharpness(crop), rel=0.35)


def test_measure_quality_fields(yaoming_bgr: npt.NDArray[np.uint8]) -> None:
    dets = ScrfdDetector().detect(yaoming_bgr)
    crop = align_face(yaoming_bgr, dets.landmarks5[0])
    q = measure_quality(dets.xyxy[0], dets.landmarks5[0], 1.7, crop)
    assert q.det_score == 1.0  # clamped
    assert q.size_px == pytest.approx(float(min(dets.xyxy[0, 2] - dets.xyxy[0, 0], dets.xyxy[0, 3] - dets.xyxy[0, 1])))
    assert 40 < q.inter_eye_px < 60
    assert abs(q.yaw_deg) < 20
    assert abs(q.roll_deg) < 10
