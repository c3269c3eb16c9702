"""Measuring face quality: size, detector score, sharpness and pose from five landmarks."""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

from overt.domain.quality import FaceQuality


def sharpness(crop_bgr: npt.NDArray[np.uint8]) -> float:
    """Variance of the Laplacian of the grey crop resized to 112 px (scale-independent)."""
    grey = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY) if crop_bgr.ndim == 3 else crop_bgr
    if grey.shape[:2] != (112, 112):
        grey = cv2.resize(grey, (112, 112), interpolation=cv2.INTER_AREA)
    # Only the central face region: the corners of the crop are background or padding.
    centre = grey[16:104, 16:96]
    return float(cv2.Laplacian(centre, cv2.CV_64F).var())


def pose_from_landmarks(landmarks5: npt.NDArray[np.floating]) -> tuple[float, float]:
    """(yaw_deg, roll_deg) estimated from five landmarks.

    Roll is the angle of the eye line. Yaw comes from where the nose sits between the eyes
    once roll is undone: frontal faces have it half-way; the offset, relative to half the
    eye distance, is read as the sine of the yaw angle. Positive yaw: nose towards image right.
    """
    lms = np.asarray(landmarks5, np.float64)
    le, re, nose = lms[0], lms[1], lms[2]
    dx, dy = re - le
    roll = math.degrees(math.atan2(dy, dx))
    eye_dist = math.hypot(dx, dy)
    if eye_dist < 1e-6:
        return 90.0, roll
    c, s = math.cos(-math.radians(roll)), math.sin(-math.radians(roll))
    mid = (le + re) / 2.0
    mouth_mid = (lms[3] + lms[4]) / 2.0
    # Use the nose and the mouth centre together: both shift sideways as the head turns.
    ref = 0.6 * nose + 0.4 * mouth_mid
    rel = ref - mid
    x_rot = c * rel[0] - s * rel[1]
    ratio = max(-1.0, min(1.0, x_rot / (eye_dist / 2.0)))
    yaw = math.degrees(math.asin(ratio))
    return yaw, roll


def measure_quality(
    xyxy: npt.NDArray[np.floating],
    landmarks5: npt.NDArray[np.floating],
    det_score: float,
    aligned_crop: npt.NDArray[np.uint8],
) -> FaceQuality:
    x1, y1, x2, y2 = (float(v) for v in xyxy)
    yaw, roll = pose_from_landmarks(landmarks5)
    lms = np.asarray(landmarks5, np.float64)
    return FaceQuality(
        size_px=max(0.0, min(x2 - x1, y2 - y1)),
        inter_eye_px=float(np.linalg.norm(lms[1] - lms[0])),
        det_score=float(min(max(det_score, 0.0), 1.0)),
        sharpness=sharpness(aligned_crop),
        yaw_deg=yaw,
        roll_deg=roll,
    )
