"""Counters: with ``Alert``, the only thing that leaves the pipeline. Numbers, never faces."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Counters:
    """A snapshot of the pipeline's counters.

    Every tracked face detection of every frame lands in exactly one of ``faces_seen``,
    ``probes_rejected`` and ``faces_unrecognisable``:

    ``faces_seen``: tracked faces that passed the probe gate (quality and recognisability),
    summed over frames: the faces the pipeline processed;
    ``probes_rejected``: tracked faces below the probe quality gate (size, sharpness, pose);
    ``faces_unrecognisable``: tracked faces that passed the quality gate but whose track's mean
    raw embedding norm is below ``min_recognisability`` (cartoons, animals, motion-blurred
    glimpses): never matched, never alerted;
    ``probes_embedded``: faces of ``faces_seen`` that were embedded;
    ``faces_searched``: faces searched against the watch list (one gallery search each). This is
    **the** definition of "faces processed" (:attr:`faces_processed`) used by the counters,
    deployments and transparency reports: a calibration's false-alert rate is per non-mated
    *search*, so the observed false alerts per 1,000 faces is comparable with the expected one;
    ``frames_dropped``: frames discarded by drop-oldest (sources and pipeline queues);
    ``alert_latency_ms_*``: capture of the first frame of the track to the alert.
    """

    elapsed_s: float
    frames: int
    frames_dropped: int
    faces_seen: int
    tracks_started: int
    tracks_active: int
    probes_embedded: int
    faces_searched: int
    probes_rejected: int
    faces_unrecognisable: int
    alerts: int
    fps: float
    alert_latency_ms_p50: float | None
    alert_latency_ms_p95: float | None
    cameras: int
    cameras_done: int
    pad_suppressed: int = 0
    """Alert candidates suppressed as presentation attacks (``pad.policy = suppress``)."""

    @property
    def faces_processed(self) -> int:
        """Faces processed = faces searched against the watch list (the one definition)."""
        return self.faces_searched

    def as_dict(self) -> dict[str, float | int | None]:
        out: dict[str, float | int | None] = {name: getattr(self, name) for name in self.__slots__}
        out["faces_processed"] = self.faces_processed
        return out


class CounterBoard:
    """Mutable, thread-safe counters behind :meth:`snapshot`."""

    def __init__(self, cameras: int) -> None:
        self._lock = threading.Lock()
        self._t0 = time.monotonic()
        self._t_end: float | None = None
        self.cameras = cameras
        self.cameras_done = 0
        self.frames = 0
        self.pipeline_dropped = 0
        self.source_dropped: dict[str, int] = {}
        self.faces_seen = 0
        self.tracks_started = 0
        self.tracks_active = 0
        self.probes_embedded = 0
        self.faces_searched = 0
        self.probes_rejected = 0
        self.faces_unrecognisable = 0
        self.alerts = 0
        self.pad_suppressed = 0
        self._latencies: deque[float] = deque(maxlen=10_000)
        self._recent: deque[tuple[float, int]] = deque(maxlen=64)

    def add(self, **kwargs: int) -> None:
        with self._lock:
            for k, v in kwargs.items():
                setattr(self, k, getattr(self, k) + v)
            if "frames" in kwargs:
                self._recent.append((time.monotonic(), self.frames))

    def set(self, **kwargs: int) -> None:
        with self._lock:
            for k, v in kwargs.items():
                setattr(self, k, v)

    def set_source_dropped(self, camera_id: str, dropped: int) -> None:
        with self._lock:
            self.source_dropped[camera_id] = dropped

    def alert_latency(self, ms: float) -> None:
        with self._lock:
            self.alerts += 1
            self._latencies.append(ms)

    def finish(self) -> None:
        with self._lock:
            if self._t_end is None:
                self._t_end = time.monotonic()

    def snapshot(self) -> Counters:
        with self._lock:
            now = self._t_end if self._t_end is not None else time.monotonic()
            elapsed = max(now - self._t0, 1e-9)
            if self._t_end is None and len(self._recent) >= 2:
                (t_a, f_a), (t_b, f_b) = self._recent[0], self._recent[-1]
                fps = (f_b - f_a) / max(t_b - t_a, 1e-9)
            else:
                fps = self.frames / elapsed
            lat = np.array(self._latencies, np.float64)
            return Counters(
                elapsed_s=round(elapsed, 3),
                frames=self.frames,
                frames_dropped=self.pipeline_dropped + sum(self.source_dropped.values()),
                faces_seen=self.faces_seen,
                tracks_started=self.tracks_started,
                tracks_active=self.tracks_active,
                probes_embedded=self.probes_embedded,
                faces_searched=self.faces_searched,
                probes_rejected=self.probes_rejected,
                faces_unrecognisable=self.faces_unrecognisable,
                alerts=self.alerts,
                fps=round(fps, 2),
                alert_latency_ms_p50=round(float(np.percentile(lat, 50)), 1) if lat.size else None,
                alert_latency_ms_p95=round(float(np.percentile(lat, 95)), 1) if lat.size else None,
                cameras=self.cameras,
                cameras_done=self.cameras_done,
                pad_suppressed=self.pad_suppressed,
            )
