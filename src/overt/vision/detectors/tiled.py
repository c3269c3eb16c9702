"""Tiled detection for large frames: the whole frame plus overlapping tiles, merged.

At a 640 px detector input a 1080p frame is shrunk 3x, so a 30 px face reaches the network at
10 px and is lost. Running the detector also on a ``grid`` x ``grid`` set of overlapping tiles
shows it small faces at (up to) ``grid`` times the resolution, for about ``grid**2 + 1`` times the
cost. Frames whose shorter side is under ``min_side_px`` are detected whole only. Results are
merged by non-maximum suppression and sorted best first. Measured in BENCHMARKS.md ("Small faces").
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from overt.domain.detections import FaceDetections
from overt.errors import ConfigError
from overt.vision.detectors.base import Detector
from overt.vision.detectors.scrfd import nms


class TiledDetector:
    """Wraps any :class:`Detector`; thread-safe when the wrapped detector is."""

    def __init__(
        self,
        inner: Detector,
        *,
        grid: int = 2,
        overlap: float = 0.15,
        min_side_px: int = 1080,
        nms_iou: float = 0.4,
    ) -> None:
        if not 2 <= grid <= 4:
            raise ConfigError("tile grid must be 2-4")
        if not 0.0 <= overlap < 0.5:
            raise ConfigError("tile overlap must lie in [0, 0.5)")
        self.inner = inner
        self.model_id = inner.model_id
        self.grid = grid
        self.overlap = overlap
        self.min_side_px = min_side_px
        self.nms_iou = nms_iou

    def warm_up(self) -> None:
        warm = getattr(self.inner, "warm_up", None)
        if callable(warm):
            warm()

    def tiles(self, height: int, width: int) -> list[tuple[int, int, int, int]]:
        """(x1, y1, x2, y2) of each tile, covering the frame with ``overlap`` of a tile between neighbours."""
        out = []
        tw = int(np.ceil(width / (self.grid - (self.grid - 1) * self.overlap)))
        th = int(np.ceil(height / (self.grid - (self.grid - 1) * self.overlap)))
        for r in range(self.grid):
            for c in range(self.grid):
                x1 = min(round(c * tw * (1 - self.overlap)), width - tw)
                y1 = min(round(r * th * (1 - self.overlap)), height - th)
                out.append((max(x1, 0), max(y1, 0), min(x1 + tw, width), min(y1 + th, height)))
        return out

    def detect(self, image: npt.NDArray[np.uint8], *, score_threshold: float | None = None) -> FaceDetections:
        full = self.inner.detect(image, score_threshold=score_threshold)
        h, w = image.shape[:2]
        if min(h, w) < self.min_side_px:
            return full
        boxes, scores, lms = [full.xyxy], [full.scores], [full.landmarks5]
        for x1, y1, x2, y2 in self.tiles(h, w):
            d = self.inner.detect(np.ascontiguousarray(image[y1:y2, x1:x2]), score_threshold=score_threshold)
            if not len(d):
                continue
            off = np.array([x1, y1], np.float32)
            boxes.append(d.xyxy + np.tile(off, 2))
            scores.append(d.scores)
            lms.append(d.landmarks5 + off)
        xyxy = np.concatenate(boxes).astype(np.float32)
        sc = np.concatenate(scores).astype(np.float32)
        lm = np.concatenate(lms).astype(np.float32)
        if not len(sc):
            return FaceDetections.empty()
        keep = nms(xyxy, sc, self.nms_iou)
        return FaceDetections(xyxy=xyxy[keep], scores=sc[keep], landmarks5=lm[keep])
