"""The recognition engine: detect -> align -> quality -> embed, for images and frames."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from overt.domain.detections import FaceDetections
from overt.domain.faces import Face
from overt.domain.quality import QualityGate
from overt.errors import MultipleFacesError, NoFaceError, QualityError
from overt.vision.align import align_face
from overt.vision.detectors.base import Detector
from overt.vision.embedders.base import Embedder
from overt.vision.imageio import DEFAULT_MAX_PIXELS, read_image
from overt.vision.quality import measure_quality

FacePick = Literal["one", "largest", "centre"]
"""How to choose the face in an image expected to show one person.

``one``: exactly one face, else an error (enrolment). ``largest``: the biggest box.
``centre``: the face nearest the image centre, weighted by size (LFW convention).
"""


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
    ) -> Face:
        """The single face of an image that should show one person, embedded.

        Raises ``NoFaceError``, ``MultipleFacesError`` (``pick="one"``) or ``QualityError``.
        """
        dets = self.detect(image, expect_face=True)
        if not len(dets):
            raise NoFaceError(f"{what}: no face found")
        if len(dets) > 1:
            if pick == "one":
                raise MultipleFacesError(f"{what}: {len(dets)} faces found, expected exactly one")
            dets = dets[choose_face(dets, image.shape[1], image.shape[0], pick)]
        face = self.faces(image, dets, embed=True)[0]
        if gate is not None:
            verdict = gate.check(face.quality)
            if not verdict.ok:
                raise QualityError(f"{what}: " + "; ".join(verdict.reasons))
        return face


def choose_face(dets: FaceDetections, width_px: int, height_px: int, pick: FacePick) -> int:
    """Index of the face to use when an image shows several (``largest`` or ``centre``)."""
    sizes = dets.box_sizes_px()
    if pick == "largest" or pick == "one":
        return int(np.argmax(sizes))
    centres = (dets.xyxy[:, :2] + dets.xyxy[:, 2:]) / 2
    dist = np.linalg.norm(centres - np.array([width_px / 2, height_px / 2], np.float32), axis=1)
    # Nearest the centre, with size as tie-breaker: distance in units of the face's own size.
    return int(np.argmin(dist / np.maximum(sizes, 1.0)))
