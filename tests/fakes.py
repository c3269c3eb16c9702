"""Fakes for the backend protocols: scripted detections and deterministic templates.

``FakeDetector`` answers from a script: either images it "knows" (matched by a coarse
fingerprint, so grey/BGRA/16-bit conversions of a known image still match) or a queue of
detections returned call after call. ``FakeEmbedder`` turns an aligned crop into a
deterministic, flip-invariant vector computed from the crop's pixels: the same crop always
gives the same template, and near-identical crops give near-identical templates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from overt.domain.detections import FaceDetections
from overt.domain.templates import Template
from overt.errors import InputError
from overt.vision.align import align_face

_FP_SIDE = 8


def fingerprint(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """8x8 grey thumbnail: equal for an image and its grey/BGRA/16-bit round trips."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return np.asarray(cv2.resize(grey, (_FP_SIDE, _FP_SIDE), interpolation=cv2.INTER_AREA), np.float32)


def detections(
    boxes: Sequence[Sequence[float]], scores: Sequence[float], landmarks: Sequence[Sequence[Sequence[float]]]
) -> FaceDetections:
    """``FaceDetections`` from plain lists (handy for scripts)."""
    if not boxes:
        return FaceDetections.empty()
    return FaceDetections(
        xyxy=np.array(boxes, np.float32),
        scores=np.array(scores, np.float32),
        landmarks5=np.array(landmarks, np.float32),
    )


def box_with_landmarks(x1: float, y1: float, x2: float, y2: float, score: float = 0.9) -> FaceDetections:
    """One detection whose landmarks sit where a frontal face's would inside the box."""
    w, h = x2 - x1, y2 - y1
    rel = [(0.3, 0.4), (0.7, 0.4), (0.5, 0.58), (0.35, 0.78), (0.65, 0.78)]
    return detections([[x1, y1, x2, y2]], [score], [[[x1 + u * w, y1 + v * h] for u, v in rel]])


@dataclass
class FakeDetector:
    """Implements the ``Detector`` protocol from a script.

    ``known``: (image, detections) pairs; an input with the same size and fingerprint (mean
    absolute difference <= ``tolerance`` grey levels) gets those detections. Otherwise the
    next item of ``queue`` is returned (the last one repeats), else nothing. Detections under
    the score threshold are dropped; results are sorted by score. ``calls`` records the
    (shape, score_threshold) of every call.
    """

    known: list[tuple[npt.NDArray[np.uint8], FaceDetections]] = field(default_factory=list)
    queue: list[FaceDetections] = field(default_factory=list)
    score_threshold: float = 0.5
    tolerance: float = 2.0
    model_id: str = "fake_detector"
    calls: list[tuple[tuple[int, ...], float]] = field(default_factory=list)

    def _lookup(self, image: npt.NDArray[np.uint8]) -> FaceDetections:
        fp = fingerprint(image)
        for ref, dets in self.known:
            if ref.shape[:2] == image.shape[:2] and float(np.abs(fingerprint(ref) - fp).mean()) <= self.tolerance:
                return dets
        if self.queue:
            return self.queue.pop(0) if len(self.queue) > 1 else self.queue[0]
        return FaceDetections.empty()

    def detect(self, image: npt.NDArray[np.uint8], *, score_threshold: float | None = None) -> FaceDetections:
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise InputError("detector input must be a BGR uint8 (H, W, 3) image")
        if image.shape[0] < 1 or image.shape[1] < 1:
            raise InputError("detector input is an empty image")
        thresh = self.score_threshold if score_threshold is None else score_threshold
        self.calls.append((tuple(image.shape), thresh))
        dets = self._lookup(image)
        if not len(dets):
            return dets
        keep = np.flatnonzero(dets.scores >= thresh)
        order = keep[np.argsort(-dets.scores[keep], kind="stable")]
        return dets[order]


class FakeEmbedder:
    """Implements the ``Embedder`` protocol: ArcFace alignment to 64 px, then a pixel-based vector.

    The vector is the mean-free, flip-symmetrised 16x16 grey thumbnail of the crop's centre
    (256-d, L2-normalised): deterministic, content-keyed, and equal for a crop and its mirror.
    It tells a face from its own copies, not people apart in general: ``MIN_SIMILARITY`` is
    high.
    """

    MIN_SIMILARITY = 0.95

    def __init__(self, model_id: str = "fake_embedder") -> None:
        self.model_id = model_id
        self.embedding_size = 256
        self.crop_size_px = 64
        self.calls = 0

    def align(
        self,
        image: npt.NDArray[np.uint8],
        xyxy: npt.NDArray[np.float32],
        landmarks5: npt.NDArray[np.float32],
    ) -> npt.NDArray[np.uint8]:
        return align_face(image, landmarks5, self.crop_size_px)

    def vector(self, crop: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        if not isinstance(crop, np.ndarray) or crop.dtype != np.uint8 or crop.shape != (64, 64, 3):
            raise InputError("embedder input must be aligned BGR uint8 crops of 64x64")
        grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY).astype(np.float32)
        thumb = cv2.resize(grey[4:60, 4:60], (16, 16), interpolation=cv2.INTER_AREA)
        sym = thumb + thumb[:, ::-1]
        v = (sym - sym.mean()).ravel()
        norm = float(np.linalg.norm(v))
        if norm < 1e-6:  # a flat crop: a fixed vector, still deterministic
            v = np.ones(self.embedding_size, np.float32)
            norm = float(np.linalg.norm(v))
        return np.asarray(v / norm, np.float32)

    def embed(self, crops: Sequence[npt.NDArray[np.uint8]]) -> list[Template]:
        self.calls += 1
        return [Template(vector=self.vector(c), model_id=self.model_id) for c in crops]
