"""The detector protocol shared by every backend (and by the fakes in tests)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from overt.domain.detections import FaceDetections


@runtime_checkable
class Detector(Protocol):
    """Finds faces and their five landmarks in a BGR uint8 image.

    ``score_threshold`` overrides the configured minimum score for one call (used by the
    retry when a face is expected). Results are in the image's pixel coordinates, best first.
    """

    model_id: str

    def detect(self, image: npt.NDArray[np.uint8], *, score_threshold: float | None = None) -> FaceDetections: ...
