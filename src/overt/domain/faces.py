"""One analysed face: where it is, how good it is, and (optionally) its template."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from overt.domain._validate import as_float32
from overt.domain.quality import FaceQuality
from overt.domain.templates import Template
from overt.errors import InputError


@dataclass(frozen=True, slots=True, eq=False)
class Face:
    """A face found in an image. ``crop`` is the aligned BGR crop the embedder saw.

    Transient by design: a ``Face`` lives in memory only; nothing in the library writes it.
    """

    xyxy: npt.NDArray[np.float32]
    landmarks5: npt.NDArray[np.float32]
    quality: FaceQuality
    template: Template | None = None
    crop: npt.NDArray[np.uint8] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "xyxy", as_float32("xyxy", self.xyxy, (4,)))
        object.__setattr__(self, "landmarks5", as_float32("landmarks5", self.landmarks5, (5, 2)))
        if self.crop is not None and (self.crop.dtype != np.uint8 or self.crop.ndim != 3):
            raise InputError("Face.crop must be a BGR uint8 image")

    def __repr__(self) -> str:
        x1, y1, x2, y2 = (round(float(v), 1) for v in self.xyxy)
        return (
            f"Face(xyxy=({x1}, {y1}, {x2}, {y2}), det_score={self.quality.det_score:.2f}, template={self.template!r})"
        )
