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


@runtime_checkable
class ResizableDetector(Detector, Protocol):
    """A detector that can run at another input size: the same model and settings, ``input_size_px`` changed
    (a larger input finds smaller faces; used to redact stored frames more inclusively)."""

    input_size_px: int

    def at_input_size(self, input_size_px: int) -> Detector: ...
