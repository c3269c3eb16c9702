"""The recognition engine: detect -> align -> quality -> embed, for images and frames."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from overt.domain.detections import FaceDetections
from overt.domain.faces import Face
from overt.domain.quality import QualityGate
from overt.errors import InputError, MultipleFacesError, NoFaceError, QualityError
from overt.vision.align import align_face
from overt.vision.detectors.base import Detector
from overt.vision.embedders.base import Embedder
from overt.vision.imageio import DEFAULT_MAX_PIXELS, read_image
from overt.vision.quality import measure_quality

FacePick = Literal["one", "largest", "centre", "dominant"]
"""How to choose the face in an image expected to show one person.

``one``: exactly one face, else an error (enrolment). ``largest``: the biggest box.
``centre``: the face nearest the image centre, weighted by size (LFW convention).
``dominant``: the largest face, only if its box has at least ``DOMINANT_AREA_RATIO`` times the
area of the next largest and does not touch the image edge; else an error (enrolment from
news or social-media photos with bystanders).
"""

FaceMark = int | tuple[float, float, float, float]
"""A face marked by a person: its index as ``overt faces`` lists it, or a box (x1, y1, x2, y2) px."""

DOMINANT_AREA_RATIO = 2.0
EDGE_MARGIN = 0.01
"""A box within this share of the image side from a border touches the edge."""
MARK_MIN_IOU = 0.5


@dataclass(frozen=True, slots=True, eq=False)
class ChosenFace:
    """The face taken from an image, which one it was (index as ``overt faces`` lists), of how many."""

    face: Face
    index: int
    faces_found: int
    rule: str


class FaceEngine:
    """Runs a detector and an embedder together. Holds no per-face state between calls."""

    def __init__(
        self,
        detector: Detector,
        embedder: Embedder,
        *,
        max_image_pixels: int = DEFAULT_MAX_PIXELS,
        retry_score_threshold: float = 0.3,
        retry_pad_ratio: float = 0.3,
        min_similarity: float = 0.3,
    ) -> None:
        self.detector = detector
        self.embedder = embedder
        self.max_image_pixels = max_image_pixels
        self.retry_score_threshold = retry_score_threshold
        self.retry_pad_ratio = retry_pad_ratio
        self.min_similarity = min_similarity

    # -- images -------------------------------------------------------------------------------

    def read(self, path: str | Path) -> npt.NDArray[np.uint8]:
        return read_image(path, max_pixels=self.max_image_pixels)

    def detect(self, image: npt.NDArray[np.uint8], *, expect_face: bool = False) -> FaceDetections:
        """Detect faces. With ``expect_face``, retry once (padded, lower threshold) if none found."""
        dets = self.detector.detect(image)
        if len(dets) or not expect_face:
            return dets
        return self._retry(image)

    def _retry(self, image: npt.NDArray[np.uint8]) -> FaceDetections:
        h, w = image.shape[:2]
        pad_y, pad_x = round(h * self.retry_pad_ratio), round(w * self.retry_pad_ratio)
        padded = cv2.copyMakeBorder(image, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_CONSTANT, value=(127, 127, 127))
        dets = self.detector.detect(np.ascontiguousarray(padded), score_threshold=self.retry_score_threshold)
        if not len(dets):
            return dets
        offset = np.array([pad_x, pad_y], np.float32)
        xyxy = dets.xyxy - np.tile(offset, 2)
        xyxy[:, [0, 2]] = np.clip(xyxy[:, [0, 2]], 0, w)
        xyxy[:, [1, 3]] = np.clip(xyxy[:, [1, 3]], 0, h)
        return FaceDetections(xyxy=xyxy, scores=dets.scores, landmarks5=dets.landmarks5 - offset)

    def faces(
        self,
        image: npt.NDArray[np.uint8],
        detections: FaceDetections | None = None,
        *,
        embed: bool = True,
        keep_crops: bool = False,
    ) -> list[Face]:
        """Quality (and, with ``embed``, templates) for every detected face, batched."""
        dets = self.detect(image) if detections is None else detections
        qualities = []
        crops: list[npt.NDArray[np.uint8]] = []
        for i in range(len(dets)):
            q_crop = align_face(image, dets.landmarks5[i], 112)
            qualities.append(measure_quality(dets.xyxy[i], dets.landmarks5[i], float(dets.scores[i]), q_crop))
            if embed or keep_crops:
                crops.append(self.embedder.align(image, dets.xyxy[i], dets.landmarks5[i]))
        templates = self.embedder.embed(crops) if embed and crops else [None] * len(dets)
        return [
            Face(
                xyxy=dets.xyxy[i],
                landmarks5=dets.landmarks5[i],
                quality=qualities[i],
                template=templates[i],
                crop=crops[i] if keep_crops else None,
            )
            for i in range(len(dets))
        ]

    def one_face(
        self,
        image: npt.NDArray[np.uint8],
        *,
        pick: FacePick = "one",
        gate: QualityGate | None = None,
        what: str = "image",
        mark: FaceMark | None = None,
    ) -> Face:
        """The single face of an image that should show one person, embedded.

        Raises ``NoFaceError``, ``MultipleFacesError`` (``pick="one"``/``"dominant"``) or ``QualityError``.
        """
        return self.choose(image, pick=pick, gate=gate, what=what, mark=mark).face

    def choose(
        self,
        image: npt.NDArray[np.uint8],
        *,
        pick: FacePick = "one",
        gate: QualityGate | None = None,
        what: str = "image",
        mark: FaceMark | None = None,
    ) -> ChosenFace:
        """:meth:`one_face`, saying which face was taken. ``mark`` (a person's choice) overrides ``pick``."""
        dets = self.detect(image, expect_face=True)
        if not len(dets):
            raise NoFaceError(f"{what}: no face found")
        n = len(dets)
        if mark is not None:
            index, rule = marked_face(dets, mark, what), "marked"
        elif n == 1:
            index, rule = 0, "only face"
        elif pick == "one":
            raise MultipleFacesError(f"{what}: {n} faces found, expected exactly one")
        elif pick == "dominant":
            index, rule = dominant_face(dets, image.shape[1], image.shape[0], what), "dominant"
        else:
            index, rule = choose_face(dets, image.shape[1], image.shape[0], pick), pick
        face = self.faces(image, dets[index], embed=True)[0]
        if gate is not None:
            verdict = gate.check(face.quality)
            if not verdict.ok:
                raise QualityError(f"{what}: " + "; ".join(verdict.reasons))
        return ChosenFace(face, index, n, rule)


def dominant_face(dets: FaceDetections, width_px: int, height_px: int, what: str = "image") -> int:
    """Index of the largest face if it dominates (area >= 2x the next, clear of the edge); else an error."""
    wh = dets.xyxy[:, 2:] - dets.xyxy[:, :2]
    areas = wh[:, 0] * wh[:, 1]
    order = np.argsort(-areas, kind="stable")
    best = int(order[0])
    if len(order) > 1:
        ratio = float(areas[best] / max(float(areas[order[1]]), 1e-6))
        if ratio < DOMINANT_AREA_RATIO:
            raise MultipleFacesError(
                f"{what}: {len(dets)} faces found and none dominates (the largest is {ratio:.1f}x the next, "
                f"needs {DOMINANT_AREA_RATIO:g}x); mark the face explicitly"
            )
    mx, my = EDGE_MARGIN * width_px, EDGE_MARGIN * height_px
    x1, y1, x2, y2 = (float(v) for v in dets.xyxy[best])
    if x1 <= mx or y1 <= my or x2 >= width_px - mx or y2 >= height_px - my:
        raise MultipleFacesError(
            f"{what}: {len(dets)} faces found; the largest touches the image edge (may be cut off); mark the face"
        )
    return best


def marked_face(dets: FaceDetections, mark: FaceMark, what: str = "image") -> int:
    """Index of the face a person marked: an index as ``overt faces`` lists, or the best-overlapping box."""
    if isinstance(mark, int):
        if not 0 <= mark < len(dets):
            raise InputError(f"{what}: face {mark} marked, but {len(dets)} face(s) found (indices 0-{len(dets) - 1})")
        return mark
    box = np.asarray(mark, np.float32).reshape(1, 4)
    x1, y1, x2, y2 = box[0]
    if not (x2 > x1 and y2 > y1):
        raise InputError(f"{what}: a marked box needs x2 > x1 and y2 > y1")
    iw = np.clip(np.minimum(dets.xyxy[:, 2], x2) - np.maximum(dets.xyxy[:, 0], x1), 0, None)
    ih = np.clip(np.minimum(dets.xyxy[:, 3], y2) - np.maximum(dets.xyxy[:, 1], y1), 0, None)
    inter = iw * ih
    areas = (dets.xyxy[:, 2] - dets.xyxy[:, 0]) * (dets.xyxy[:, 3] - dets.xyxy[:, 1])
    iou = inter / np.maximum(areas + (x2 - x1) * (y2 - y1) - inter, 1e-6)
    best = int(np.argmax(iou))
    if float(iou[best]) < MARK_MIN_IOU:
        raise InputError(f"{what}: no detected face matches the marked box (best overlap {float(iou[best]):.2f})")
    return best


def choose_face(dets: FaceDetections, width_px: int, height_px: int, pick: FacePick) -> int:
    """Index of the face to use when an image shows several (``largest`` or ``centre``)."""
    sizes = dets.box_sizes_px()
    if pick in ("largest", "one", "dominant"):
        return int(np.argmax(sizes))
    centres = (dets.xyxy[:, :2] + dets.xyxy[:, 2:]) / 2
    dist = np.linalg.norm(centres - np.array([width_px / 2, height_px / 2], np.float32), axis=1)
    # Nearest the centre, with size as tie-breaker: distance in units of the face's own size.
    return int(np.argmin(dist / np.maximum(sizes, 1.0)))
