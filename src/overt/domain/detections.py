"""Face detections of one image, in that image's pixel coordinates."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from overt.domain._validate import as_float32
from overt.errors import InputError


@dataclass(frozen=True, slots=True, eq=False)
class FaceDetections:
    """N faces: ``xyxy`` (N, 4) boxes, ``scores`` (N,) in [0, 1], ``landmarks5`` (N, 5, 2).

    Landmarks follow the ArcFace order: left eye, right eye, nose tip, left mouth corner,
    right mouth corner ("left" = image left). Detections are sorted by score, best first.
    """

    xyxy: npt.NDArray[np.float32]
    scores: npt.NDArray[np.float32]
    landmarks5: npt.NDArray[np.float32]

    def __post_init__(self) -> None:
        xyxy = as_float32("xyxy", self.xyxy, (None, 4))
        n = xyxy.shape[0]
        scores = as_float32("scores", self.scores, (n,))
        lms = as_float32("landmarks5", self.landmarks5, (n, 5, 2))
        if n and (np.any(xyxy[:, 2] < xyxy[:, 0]) or np.any(xyxy[:, 3] < xyxy[:, 1])):
            raise InputError("xyxy boxes must have x2 >= x1 and y2 >= y1")
        if n and (np.any(scores < 0) or np.any(scores > 1)):
            raise InputError("scores must lie in [0, 1]")
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "scores", scores)
        object.__setattr__(self, "landmarks5", lms)

    @classmethod
    def empty(cls) -> FaceDetections:
        return cls(
            xyxy=np.zeros((0, 4), np.float32),
            scores=np.zeros((0,), np.float32),
            landmarks5=np.zeros((0, 5, 2), np.float32),
        )

    def __len__(self) -> int:
        return int(self.xyxy.shape[0])

    def __getitem__(self, index: int | slice | npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> FaceDetections:
        """Select detections; an int keeps the result a (1-face) ``FaceDetections``."""
        if isinstance(index, int):
            if not -len(self) <= index < len(self):
                raise IndexError(index)
            index = slice(index, index + 1 if index != -1 else None)
        return FaceDetections(self.xyxy[index], self.scores[index], self.landmarks5[index])

    def __iter__(self) -> Iterator[FaceDetections]:
        for i in range(len(self)):
            yield self[i]

    def box_sizes_px(self) -> npt.NDArray[np.float32]:
        """Shorter side of each box in pixels."""
        w = self.xyxy[:, 2] - self.xyxy[:, 0]
        h = self.xyxy[:, 3] - self.xyxy[:, 1]
        sizes: npt.NDArray[np.float32] = np.minimum(w, h).astype(np.float32)
        return sizes

    def __repr__(self) -> str:
        return f"FaceDetections(n={len(self)})"
