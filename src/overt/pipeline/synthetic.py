"""Synthetic test clips made from photos (the demo, tests and benchmarks; no data is shipped).

Faces are cut out of a photo (with a margin), scaled to a chosen size and pasted on a plain
background: bystanders drift gently, an optional target face walks across and zooms in.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from overt.domain.detections import FaceDetections
from overt.errors import InputError, StorageError


def face_patches(
    image: npt.NDArray[np.uint8], detections: FaceDetections, *, margin: float = 0.6
) -> list[npt.NDArray[np.uint8]]:
    """A square-ish cut-out around each detected face, ``margin`` of the face size on each side."""
    h, w = image.shape[:2]
    out: list[npt.NDArray[np.uint8]] = []
    for x1, y1, x2, y2 in detections.xyxy:
        fw, fh = x2 - x1, y2 - y1
        a, b = max(0, int(x1 - margin * fw)), max(0, int(y1 - margin * fh))
        c, d = min(w, int(x2 + margin * fw)), min(h, int(y2 + margin * fh))
        if c - a > 4 and d - b > 4:
            out.append(np.ascontiguousarray(image[b:d, a:c]))
    return out


@dataclass(frozen=True, slots=True, eq=False)
class SyntheticClip:
    """A clip description; ``frames()`` renders it, ``write()`` encodes it (mp4v).

    ``face_px`` is the width of a bystander patch's face region (patch width / (1 + 2 margin)).
    The target is visible from ``target_from_s`` to ``target_until_s``.
    """

    width_px: int
    height_px: int
    fps: float
    seconds: float
    bystanders: Sequence[npt.NDArray[np.uint8]] = field(repr=False)
    target: npt.NDArray[np.uint8] | None = field(default=None, repr=False)
    bystander_face_px: int = 80
    target_face_px: tuple[int, int] = (90, 150)
    target_from_s: float = 0.5
    target_until_s: float | None = None
    margin: float = 0.6
    seed: int = 0

    def __post_init__(self) -> None:
        if self.width_px < 64 or self.height_px < 64 or self.fps <= 0 or self.seconds <= 0:
            raise InputError("invalid clip size, fps or duration")

    @property
    def frame_count(self) -> int:
        return max(1, round(self.seconds * self.fps))

    def target_visible(self, index: int) -> bool:
        t = index / self.fps
        until = self.seconds if self.target_until_s is None else self.target_until_s
        return self.target is not None and self.target_from_s <= t < until

    def _background(self) -> npt.NDArray[np.uint8]:
        y = np.linspace(90, 160, self.height_px, dtype=np.float32)[:, None]
        x = np.linspace(0, 30, self.width_px, dtype=np.float32)[None, :]
        grey = (y + x).astype(np.uint8)
        return np.ascontiguousarray(np.stack([grey, grey + 5, grey + 10], axis=-1))

    def _layout(self) -> list[tuple[npt.NDArray[np.uint8], float, float, float]]:
        """Scaled bystander patches with their base position and phase, on a grid avoiding overlap."""
        rng = np.random.default_rng(self.seed)
        n = len(self.bystanders)
        if n == 0:
            return []
        scale_side = self.bystander_face_px * (1 + 2 * self.margin)
        cols = max(1, int(self.width_px // (scale_side * 1.15)))
        rows = max(1, math.ceil(n / cols))
        out = []
        for k, patch in enumerate(self.bystanders):
            s = scale_side / max(patch.shape[1], 1)
            p = cv2.resize(patch, (max(1, round(patch.shape[1] * s)), max(1, round(patch.shape[0] * s))))
            r, c = divmod(k, cols)
            cx = (c + 0.5) * self.width_px / cols
            cy = (r + 0.5) * self.height_px / max(rows, 1)
            out.append((np.asarray(p, np.uint8), cx, cy, float(rng.uniform(0, 2 * math.pi))))
        return out

    @staticmethod
    def _paste(canvas: npt.NDArray[np.uint8], patch: npt.NDArray[np.uint8], cx: float, cy: float) -> None:
        h, w = canvas.shape[:2]
        ph, pw = patch.shape[:2]
        x0, y0 = round(cx - pw / 2), round(cy - ph / 2)
        a, b = max(0, x0), max(0, y0)
        c, d = min(w, x0 + pw), min(h, y0 + ph)
        if c <= a or d <= b:
            return
        canvas[b:d, a:c] = patch[b - y0 : d - y0, a - x0 : c - x0]

    def frames(self) -> Iterator[npt.NDArray[np.uint8]]:
        bg = self._background()
        layout = self._layout()
        target = self.target
        n = self.frame_count
        for i in range(n):
            t = i / self.fps
            canvas = bg.copy()
            for patch, cx, cy, phase in layout:
                self._paste(canvas, patch, cx + 6 * math.sin(t * 1.3 + phase), cy + 4 * math.cos(t * 0.9 + phase))
            if target is not None and self.target_visible(i):
                until = self.seconds if self.target_until_s is None else self.target_until_s
                u = (t - self.target_from_s) / max(until - self.target_from_s, 1e-6)
                lo, hi = self.target_face_px
                face_px = lo + (hi - lo) * u
                s = face_px * (1 + 2 * self.margin) / max(target.shape[1], 1)
                tp = cv2.resize(target, (max(1, round(target.shape[1] * s)), max(1, round(target.shape[0] * s))))
                cx = self.width_px * (0.2 + 0.6 * u)
                cy = self.height_px * 0.5 + 0.08 * self.height_px * math.sin(2 * math.pi * u)
                self._paste(canvas, np.asarray(tp, np.uint8), cx, cy)
            yield canvas

    def write(self, path: str | Path) -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        writer = cv2.VideoWriter(str(p), cv2.VideoWriter.fourcc(*"mp4v"), self.fps, (self.width_px, self.height_px))
        if not writer.isOpened():
            raise StorageError(f"cannot write clip {p}")
        try:
            for frame in self.frames():
                writer.write(frame)
        finally:
            writer.release()
        return p
