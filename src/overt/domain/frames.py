"""A video frame as it leaves a source."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from overt.domain._validate import finite, non_negative
from overt.errors import InputError


@dataclass(frozen=True, slots=True, eq=False)
class Frame:
    """One BGR uint8 image from camera ``camera_id``.

    ``pts_s`` is the presentation time in the stream (strictly increasing); ``captured_monotonic_s`` is the reader's
    ``time.monotonic()`` when the frame arrived, used for latency.
    """

    camera_id: str
    index: int
    pts_s: float
    captured_monotonic_s: float
    image: npt.NDArray[np.uint8] = field(repr=False)
    stream_pts_s: float | None = None
    """The stream's own clock for this frame, as the container or RTP says (not made monotonic);
    ``None`` when unknown. Stream-integrity checks read it."""
    codec: str | None = None
    """The stream's codec (FourCC) when known."""

    def __post_init__(self) -> None:
        if not self.camera_id:
            raise InputError("camera_id must not be empty")
        if self.index < 0:
            raise InputError(f"frame index must be >= 0, got {self.index}")
        non_negative("pts_s", self.pts_s)
        finite("captured_monotonic_s", self.captured_monotonic_s)
        img = self.image
        if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise InputError("Frame.image must be a BGR uint8 array of shape (H, W, 3)")
        if img.shape[0] < 1 or img.shape[1] < 1:
            raise InputError("Frame.image must not be empty")

    @property
    def height_px(self) -> int:
        return int(self.image.shape[0])

    @property
    def width_px(self) -> int:
        return int(self.image.shape[1])
