"""Stream integrity per camera: is this picture live, whole and from where it should be?

:class:`IntegrityMonitor` sees every frame of one camera as a small downscaled grey image plus
its times (:func:`thumbnail`), keeps a counter per check and raises a flag when a condition
lasts past its threshold (:class:`overt.config.IntegrityConfig` documents each):

``frozen``        consecutive frames (64x64) identical (mean abs difference <= ``frozen_max_mad``)
                  for ``frozen_after_s`` (80 % of them; no jump past ``frozen_max_spike_mad``):
                  a still injected in place of the camera.
``loop``          a moving ``loop_window_s`` segment (16x16 frames) recurring at least
                  ``loop_min_lag_s`` after it first played: a replayed recording.
``timestamp``     the stream's clock going backwards, jumping by more than ``timestamp_max_gap_s``,
                  or (live) running at a rate outside ``[1/t, t]`` of the arrival clock.
``stream_change`` the resolution or codec changing mid-stream (also across reconnects).
``covered``       near-uniform frames (grey std <= ``covered_max_std``) for ``covered_after_s``.
``moved``         the view (32x32, 1 s smoothed) drifting from the view at deployment start
                  (1 - normalised correlation > ``moved_min_drift``) for ``moved_after_s``.

A flag stays raised ``hold_s`` after its condition ends, so alerts raised right after a
manipulation still carry it. Durations use the frame's ``pts_s`` (arrival time for live
sources, stream time for files). Everything kept is a tiny grey thumbnail: no face can be
recognised in 64x64 of a whole scene, and nothing is written anywhere.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from overt.config import IntegrityConfig
from overt.domain.frames import Frame

FLAGS: Final = ("frozen", "loop", "timestamp", "stream_change", "covered", "moved")
THUMB_PX: Final = 64


@dataclass(frozen=True, slots=True)
class FrameSample:
    """What the monitor needs of one frame: times, geometry and a 64x64 grey float thumbnail."""

    pts_s: float
    stream_pts_s: float | None
    width_px: int
    height_px: int
    codec: str | None
    grey: npt.NDArray[np.float32]


def thumbnail(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """64x64 grey float32 of a BGR image: bilinear to 128x128, then 2x2 block means (OpenCV's
    area resampling is fast only for integer ratios; ~0.1 ms for any input size)."""
    mid = cv2.resize(image, (2 * THUMB_PX, 2 * THUMB_PX), interpolation=cv2.INTER_LINEAR)
    small = cv2.resize(mid, (THUMB_PX, THUMB_PX), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.float32)


def sample_of(frame: Frame) -> FrameSample:
    return FrameSample(
        pts_s=frame.pts_s,
        stream_pts_s=frame.stream_pts_s,
        width_px=frame.width_px,
        height_px=frame.height_px,
        codec=frame.codec,
        grey=thumbnail(frame.image),
    )


def _pool(grey: npt.NDArray[np.float32], factor: int) -> npt.NDArray[np.float32]:
    n = grey.shape[0] // factor
    return np.asarray(grey.reshape(n, factor, n, factor).mean(axis=(1, 3)), np.float32)


def _zscore(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32] | None:
    sd = float(x.std())
    if sd < 1e-3:
        return None
    return ((x - float(x.mean())) / sd).astype(np.float32)


@dataclass(frozen=True, slots=True)
class IntegrityFlag:
    """One check of one camera: raised now?, how many times its condition began, when last."""

    name: str
    active: bool
    count: int
    last_event_s: float | None


@dataclass(frozen=True, slots=True)
class IntegrityStatus:
    """Every check of one camera (``overt watch --json``, the console, alert flags)."""

    camera_id: str
    frames: int
    flags: tuple[IntegrityFlag, ...]

    @property
    def active(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.flags if f.active)

    @property
    def suspect(self) -> bool:
        return any(f.active for f in self.flags)

    def to_json(self) -> dict[str, object]:
        return {
            "camera": self.camera_id,
            "frames": self.frames,
            "suspect": self.suspect,
            "flags": list(self.active),
            "counters": {f.name: f.count for f in self.flags},
        }


class _Check:
    """A condition that must last ``after_s`` to raise a flag, held ``hold_s`` after it ends."""

    def __init__(self, after_s: float, hold_s: float) -> None:
        self.after_s = after_s
        self.hold_s = hold_s
        self.since: float | None = None
        self.raised_until = -math.inf
        self.raised = False
        self.count = 0
        self.last_event_s: float | None = None

    def update(self, condition: bool, t: float) -> None:
        if not condition:
            self.since = None
            self.raised = False
            return
        if self.since is None:
            self.since = t
        if t - self.since >= self.after_s:
            if not self.raised:
                self.count += 1
                self.last_event_s = t
            self.raised = True
            self.raised_until = t + self.hold_s

    def event(self, t: float) -> None:
        """An instantaneous anomaly: raise now, hold ``hold_s`` (counted once per episode)."""
        if not self.active(t):
            self.count += 1
        self.last_event_s = t
        self.raised_until = t + self.hold_s

    def active(self, t: float) -> bool:
        return self.raised or t <= self.raised_until


class IntegrityMonitor:
    """The checks of one camera. Call :meth:`observe` with every frame (reader thread),
    :meth:`stream_restarted` after a reconnect, :meth:`status` from anywhere."""

    def __init__(self, camera_id: str, config: IntegrityConfig | None = None, *, live: bool = True) -> None:
        cfg = config or IntegrityConfig()
        self.camera_id = camera_id
        self.config = cfg
        self.live = live
        h = cfg.hold_s
        self._checks = {
            "frozen": _Check(0.0, h),
            "loop": _Check(0.0, h),
            "timestamp": _Check(0.0, h),
            "stream_change": _Check(0.0, h),
            "covered": _Check(cfg.covered_after_s, h),
            "moved": _Check(cfg.moved_after_s, h),
        }
        self.frames = 0
        self._now = 0.0
        self._prev: FrameSample | None = None
        self._geometry: tuple[int, int, str | None] | None = None
        self._stream_prev: float | None = None
        self._rate: deque[tuple[float, float]] = deque()
        self._diffs: deque[tuple[float, float]] = deque()  # (t, mean abs difference to the previous frame)
        # loop: 16x16 thumbnails and their times, in a ring (oldest at ``_start``)
        self._cap = max(64, int(cfg.loop_history_s * 60))
        self._hist_t = np.zeros(self._cap, np.float64)
        self._hist_v = np.zeros((self._cap, (THUMB_PX // 4) ** 2), np.float32)
        self._start = 0
        self._count = 0
        self._next_loop_check = -math.inf
        # moved: the reference view and a smoothed current view (32x32)
        self._ref_sum: npt.NDArray[np.float64] | None = None
        self._ref_n = 0
        self._ref_start: float | None = None
        self._reference: npt.NDArray[np.float32] | None = None
        self._view: npt.NDArray[np.float32] | None = None
        self._prev_view_t: float | None = None

    # -- input -------------------------------------------------------------------------------------

    def observe_frame(self, frame: Frame) -> None:
        self.observe(sample_of(frame))

    def stream_restarted(self) -> None:
        """The source reconnected: its stream clock starts again (not an anomaly)."""
        self._stream_prev = None
        self._rate.clear()
        self._prev = None
        self._diffs.clear()

    def observe(self, s: FrameSample) -> None:
        t = s.pts_s
        self._now = t
        self.frames += 1
        self._check_stream(s, t)
        self._check_timestamps(s, t)
        prev = self._prev
        self._prev = s
        grey = s.grey
        if prev is not None and prev.grey.shape == grey.shape:
            self._check_frozen(float(np.abs(grey - prev.grey).mean()), t)
        self._checks["covered"].update(float(grey.std()) <= self.config.covered_max_std, t)
        self._check_moved(_pool(grey, 2), t)
        self._check_loop(_pool(grey, 4), t)

    # -- checks ------------------------------------------------------------------------------------

    def _check_frozen(self, mad: float, t: float) -> None:
        cfg = self.config
        diffs = self._diffs
        diffs.append((t, mad))
        while diffs and t - diffs[0][0] > cfg.frozen_after_s:
            diffs.popleft()
        if not diffs or t - diffs[0][0] < cfg.frozen_after_s * 0.95:
            self._checks["frozen"].update(False, t)
            return
        values = np.fromiter((d for _, d in diffs), np.float64, len(diffs))
        frozen = (
            float((values <= cfg.frozen_max_mad).mean()) >= cfg.frozen_min_share
            and float(values.max()) <= cfg.frozen_max_spike_mad
        )
        self._checks["frozen"].update(frozen, t)

    def _check_stream(self, s: FrameSample, t: float) -> None:
        geometry = (s.width_px, s.height_px, s.codec)
        if self._geometry is not None and geometry != self._geometry:
            old_codec, new_codec = self._geometry[2], s.codec
            codec_changed = old_codec is not None and new_codec is not None and old_codec != new_codec
            if geometry[:2] != self._geometry[:2] or codec_changed:
                self._checks["stream_change"].event(t)
        self._geometry = geometry

    def _check_timestamps(self, s: FrameSample, t: float) -> None:
        cfg = self.config
        sp = s.stream_pts_s
        if sp is None or not math.isfinite(sp):
            return
        prev = self._stream_prev
        self._stream_prev = sp
        if prev is not None:
            dt = sp - prev
            if dt < -1e-3 or dt > cfg.timestamp_max_gap_s:
                self._checks["timestamp"].event(t)
                self._rate.clear()
        if not self.live:
            return
        self._rate.append((t, sp))
        t0, sp0 = self._rate[0]
        if t - t0 >= cfg.timestamp_rate_window_s:
            ratio = (sp - sp0) / max(t - t0, 1e-6)
            tol = cfg.timestamp_rate_tolerance
            if not 1.0 / tol <= ratio <= tol:
                self._checks["timestamp"].event(t)
            self._rate.clear()

    def _check_moved(self, view: npt.NDArray[np.float32], t: float) -> None:
        cfg = self.config
        if self._reference is None:
            if float(view.std()) <= cfg.covered_max_std:
                return  # a covered start is no reference
            if self._ref_start is None:
                self._ref_start = t
                self._ref_sum = np.zeros(view.shape, np.float64)
            assert self._ref_sum is not None
            self._ref_sum += view
            self._ref_n += 1
            if t - self._ref_start >= cfg.moved_reference_s:
                self._reference = _zscore((self._ref_sum / self._ref_n).astype(np.float32))
                if self._reference is None:
                    self._ref_start = None
                    self._ref_n = 0
            return
        if self._view is None or self._prev_view_t is None:
            self._view = view.copy()
        else:
            alpha = min(1.0, max(0.0, t - self._prev_view_t))  # ~1 s time constant
            self._view += alpha * (view - self._view)
        self._prev_view_t = t
        z = _zscore(self._view)
        if z is None:
            self._checks["moved"].update(False, t)
            return
        drift = 1.0 - float((z * self._reference).mean())
        self._checks["moved"].update(drift > cfg.moved_min_drift, t)

    def _check_loop(self, small: npt.NDArray[np.float32], t: float) -> None:
        cfg = self.config
        cap = self._cap
        if self._count == cap:  # full: drop the oldest
            self._start = (self._start + 1) % cap
            self._count -= 1
        i = (self._start + self._count) % cap
        self._hist_t[i] = t
        self._hist_v[i] = small.reshape(-1)
        self._count += 1
        while self._count and t - self._hist_t[self._start] > cfg.loop_history_s:
            self._start = (self._start + 1) % cap
            self._count -= 1
        if t < self._next_loop_check:
            return
        self._next_loop_check = t + 0.2
        order = (self._start + np.arange(self._count)) % cap
        times = self._hist_t[order]
        n = len(times)
        start = int(np.searchsorted(times, t - cfg.loop_window_s))
        span = n - 1 - start
        if span < 4 or times[0] > t - cfg.loop_min_lag_s - cfg.loop_window_s:
            return
        offsets = np.unique(np.linspace(-span, 0, num=min(span + 1, 10)).round().astype(int))
        cur = self._hist_v[order[n - 1 + offsets]]
        motion = float(np.abs(np.diff(cur, axis=0)).mean())
        if motion < cfg.loop_min_motion:
            return
        tol = cfg.loop_match_ratio * motion
        # candidate earlier frames: old enough, matching the newest frame
        last_old = int(np.searchsorted(times, t - cfg.loop_min_lag_s, side="right"))
        lo = span
        if last_old <= lo:
            return
        d_last = np.abs(self._hist_v[order[lo:last_old]] - cur[-1]).mean(axis=1)
        candidates = np.flatnonzero(d_last <= tol)
        if candidates.size == 0:
            return
        best = candidates[np.argsort(d_last[candidates])[:20]] + lo
        for j in best:
            window = self._hist_v[order[j + offsets]]
            if float(np.abs(window - cur).mean()) <= tol:
                self._checks["loop"].event(t)
                return

    # -- output ------------------------------------------------------------------------------------

    def status(self) -> IntegrityStatus:
        t = self._now
        return IntegrityStatus(
            camera_id=self.camera_id,
            frames=self.frames,
            flags=tuple(IntegrityFlag(name, c.active(t), c.count, c.last_event_s) for name, c in self._checks.items()),
        )
