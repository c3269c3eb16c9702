"""Shot cuts and abrupt camera changes, from the whole frame.

A tracker joins boxes by overlap and centre distance, so across a hard cut (an edited clip, a
PTZ camera jumping to a preset, a multiplexed feed switching cameras) it can carry one track from
one person to another. Every track of a camera ends where this detector reports a cut.

Each frame is reduced to a 64x36 thumbnail (cheap at any resolution) and compared with the
previous frame's thumbnail on two cues:

- colour: the Bhattacharyya distance between hue-saturation histograms (16 x 8 bins);
- structure: the mean absolute difference of the grey thumbnails, in 0-255 grey levels.

A cut is declared when the histogram distance is at least ``min_hist_distance`` *and* the grey
difference at least ``min_mean_abs_diff``: a pan or a person walking through changes the layout
but not the colour mix, a light switching on changes the colours but little of the layout.
Defaults measured on dev data (BENCHMARKS.md, "Tracks that stay one person").
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from overt.errors import ConfigError

THUMB_WH = (64, 36)


def _thumbnail(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """The 64x36 thumbnail: bilinear to 4x its size, then 4x4 block means. Area resampling of a
    whole 1080p frame reads every pixel (3.2 CPU ms a frame, every frame of every camera); this
    reads ~1 % of them (0.2 ms) and averages 16 samples per thumbnail pixel."""
    w, h = THUMB_WH
    src = image
    if image.shape[1] > 8 * w and image.shape[0] > 8 * h:
        src = np.asarray(cv2.resize(image, (4 * w, 4 * h), interpolation=cv2.INTER_LINEAR), np.uint8)
    return np.asarray(cv2.resize(src, THUMB_WH, interpolation=cv2.INTER_AREA), np.uint8)


class ShotCutDetector:
    """Feed every frame of one camera in order; ``observe`` says whether a cut precedes it."""

    def __init__(self, *, min_hist_distance: float = 0.3, min_mean_abs_diff: float = 12.0) -> None:
        if not 0.0 < min_hist_distance <= 1.0:
            raise ConfigError("min_hist_distance must lie in (0, 1]")
        if not 0.0 < min_mean_abs_diff <= 255.0:
            raise ConfigError("min_mean_abs_diff must lie in (0, 255]")
        self.min_hist_distance = min_hist_distance
        self.min_mean_abs_diff = min_mean_abs_diff
        self._grey: npt.NDArray[np.float32] | None = None
        self._hist: npt.NDArray[np.float32] | None = None
        self.cuts = 0

    def distances(self, image: npt.NDArray[np.uint8]) -> tuple[float, float]:
        """(histogram distance, mean grey difference) to the previous frame; (0, 0) for the first."""
        thumb = _thumbnail(image)
        if thumb.ndim == 2:
            thumb = np.asarray(cv2.cvtColor(thumb, cv2.COLOR_GRAY2BGR), np.uint8)
        hsv = cv2.cvtColor(thumb, cv2.COLOR_BGR2HSV)
        hist = np.asarray(cv2.calcHist([hsv], [0, 1], None, [16, 8], [0, 180, 0, 256]), np.float32)
        cv2.normalize(hist, hist, 1.0, 0.0, cv2.NORM_L1)
        grey: npt.NDArray[np.float32] = np.asarray(cv2.cvtColor(thumb, cv2.COLOR_BGR2GRAY), np.float32)
        prev_grey, prev_hist = self._grey, self._hist
        self._grey, self._hist = grey, hist
        if prev_grey is None or prev_hist is None or prev_grey.shape != grey.shape:
            return 0.0, 0.0
        hd = float(cv2.compareHist(prev_hist, hist, cv2.HISTCMP_BHATTACHARYYA))
        md = float(np.mean(np.abs(grey - prev_grey)))
        return hd, md

    def observe(self, image: npt.NDArray[np.uint8]) -> bool:
        """True when this frame starts a new shot (never for the first frame)."""
        hd, md = self.distances(image)
        cut = hd >= self.min_hist_distance and md >= self.min_mean_abs_diff
        if cut:
            self.cuts += 1
        return cut

    def reset(self) -> None:
        """Forget the previous frame (after a reconnect the next frame is not compared)."""
        self._grey = None
        self._hist = None
