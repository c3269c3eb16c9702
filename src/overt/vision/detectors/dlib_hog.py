"""dlib HOG frontal face detector + 68-point landmarks, reduced to the ArcFace five points.

Public-domain weights from ``face-recognition-models`` (optional extra ``overt[dlib]``).
The detector's SVM margin ``m`` (0 = dlib's own threshold) is mapped to a score in [0, 1] by
``1 / (1 + exp(-2 m))``, so score 0.5 is dlib's default decision and a ``score_threshold``
``t`` is passed to dlib as ``adjust_threshold = logit(t) / 2``.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from overt.domain.detections import FaceDetections
from overt.errors import ConfigError, InputError
from overt.vision._dlib import import_dlib, load_dlib_model
from overt.vision.models import ModelRegistry

SCORE_SLOPE = 2.0
"""Slope of the logistic map from dlib's SVM margin to a score in [0, 1]."""

LANDMARK_MODEL_ID = "dlib_shape_68"


def margin_to_score(margin: npt.ArrayLike) -> npt.NDArray[np.float32]:
    m = np.asarray(margin, np.float64)
    return np.asarray(1.0 / (1.0 + np.exp(-SCORE_SLOPE * m)), np.float32)


def score_to_margin(score: float) -> float:
    s = min(max(score, 1e-6), 1.0 - 1e-6)
    return math.log(s / (1.0 - s)) / SCORE_SLOPE


def five_from_68(points: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
    """ArcFace order (image-left eye, right eye, nose tip, left mouth, right mouth) from iBUG 68."""
    p = np.asarray(points, np.float64)
    if p.shape != (68, 2):
        raise InputError(f"expected 68 landmarks, got shape {p.shape}")
    return np.stack([p[36:42].mean(axis=0), p[42:48].mean(axis=0), p[30], p[48], p[54]]).astype(np.float32)


class DlibHogDetector:
    """dlib's HOG + linear SVM frontal face detector. Calls are serialised (dlib is not re-entrant)."""

    model_id = "dlib_hog"

    def __init__(
        self, registry: ModelRegistry | None = None, *, upsample: int = 1, score_threshold: float = 0.5
    ) -> None:
        dlib = import_dlib()
        if not 0 <= upsample <= 3:
            raise ConfigError(f"upsample must lie in 0..3, got {upsample}")
        if not 0.0 < score_threshold < 1.0:
            raise ConfigError("score_threshold must lie in (0, 1)")
        self._registry = registry or ModelRegistry()
        self.upsample = upsample
        self.score_threshold = score_threshold
        self._dlib = dlib
        self._detector: Any = dlib.get_frontal_face_detector()
        self._predictor: Any = load_dlib_model(self._registry, LANDMARK_MODEL_ID, "shape_predictor")
        self._lock = threading.Lock()

    def detect(self, image: npt.NDArray[np.uint8], *, score_threshold: float | None = None) -> FaceDetections:
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise InputError("detector input must be a BGR uint8 (H, W, 3) image")
        if image.shape[0] < 1 or image.shape[1] < 1:
            raise InputError("detector input is an empty image")
        thresh = self.score_threshold if score_threshold is None else score_threshold
        h, w = image.shape[:2]
        rgb = np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        with self._lock:
            rects, margins, _ = self._detector.run(rgb, self.upsample, score_to_margin(thresh))
            shapes = [self._predictor(rgb, r) for r in rects]
        if not len(rects):
            return FaceDetections.empty()
        scores = margin_to_score(list(margins))
        boxes = np.array([[r.left(), r.top(), r.right() + 1, r.bottom() + 1] for r in rects], np.float32)
        boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, w)
        boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, h)
        lms = np.stack([five_from_68(np.array([[p.x, p.y] for p in s.parts()], np.float64)) for s in shapes])
        keep = scores >= thresh
        order = np.argsort(-scores[keep], kind="stable")
        return FaceDetections(xyxy=boxes[keep][order], scores=scores[keep][order], landmarks5=lms[keep][order])
