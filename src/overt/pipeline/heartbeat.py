"""Pipeline heartbeat: when did each camera last have a frame processed, and is that "live"?

"Live" means frames are being processed now, nothing less: the console shows a camera as
``live`` only while its last processed frame is younger than :data:`LIVE_WITHIN_S`, ``stale``
(amber) up to :data:`DOWN_AFTER_S`, and ``down`` (red) after that. With no pipeline at all
(only ``overt serve``) there are no heartbeats and the state is ``none``: nothing says live.

Every camera of a pipeline counts its processed frames on a :class:`ProgressBoard`
(:meth:`overt.pipeline.Pipeline.camera_progress`; worker processes send theirs to the parent).
The deployment runtime reports that progress as :class:`CameraReport` s, at most about once a
second per camera, into the database (:mod:`overt.deployments.liveness`) or, on an edge node, to
the centre; every API process reads the same rows. A report carries the age of the last frame,
not a time, so an edge node's skewed clock does not matter: the database dates it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from overt.errors import InputError

LIVE_WITHIN_S = 5.0
"""A camera whose last frame was processed less than this long ago is live."""
DOWN_AFTER_S = 30.0
"""After this long without a processed frame a camera is down (before it: stale)."""
MAX_CAMERA_ID = 64

Liveness = Literal["live", "stale", "down", "none"]
BeatSource = Literal["pipeline", "edge"]
_RANK: dict[Liveness, int] = {"none": 0, "down": 1, "stale": 2, "live": 3}


def classify(age_s: float | None) -> Liveness:
    """The state of one camera from the age of its last processed frame (None: never)."""
    if age_s is None:
        return "none"
    if age_s < LIVE_WITHIN_S:
        return "live"
    if age_s < DOWN_AFTER_S:
        return "stale"
    return "down"


@dataclass(frozen=True, slots=True)
class CameraProgress:
    """What a running pipeline knows of one camera (its configured id: never a person or a path)."""

    camera_id: str
    frames: int
    last_frame_at_s: float | None
    """This host's wall clock (epoch seconds) at the last processed frame; None: none yet."""
    fps: float


@dataclass(frozen=True, slots=True)
class CameraReport:
    """One camera's heartbeat as it is sent and stored: the age of its last processed frame."""

    camera_id: str
    frames: int
    fps: float
    age_s: float

    def __post_init__(self) -> None:
        if not self.camera_id or len(self.camera_id) > MAX_CAMERA_ID:
            raise InputError(f"a camera id has 1 to {MAX_CAMERA_ID} characters")
        if self.frames < 0 or not 0.0 <= self.fps <= 1000.0 or not self.age_s >= 0.0:
            raise InputError("frames, fps and age_s must be non-negative (fps at most 1000)")


def reports(progress: Sequence[CameraProgress], now_s: float) -> tuple[CameraReport, ...]:
    """The cameras that processed a frame, as reports aged at ``now_s`` (same clock as the progress)."""
    return tuple(
        CameraReport(p.camera_id, p.frames, round(p.fps, 2), round(max(0.0, now_s - p.last_frame_at_s), 3))
        for p in progress
        if p.last_frame_at_s is not None
    )


class ProgressBoard:
    """Per camera: frames processed, when the last one was, and the recent rate. Thread-safe."""

    def __init__(self, camera_ids: Sequence[str], clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._frames = dict.fromkeys(camera_ids, 0)
        self._last: dict[str, float | None] = dict.fromkeys(camera_ids)
        self._recent: dict[str, deque[tuple[float, int]]] = {c: deque(maxlen=32) for c in camera_ids}

    def processed(self, camera_id: str, frames: int = 1) -> None:
        now = self._clock()
        with self._lock:
            n = self._frames[camera_id] = self._frames.get(camera_id, 0) + frames
            self._last[camera_id] = now
            self._recent.setdefault(camera_id, deque(maxlen=32)).append((now, n))

    def snapshot(self) -> tuple[CameraProgress, ...]:
        with self._lock:
            out = []
            for cam, n in self._frames.items():
                recent = self._recent[cam]
                fps = 0.0
                if len(recent) >= 2:
                    (t_a, f_a), (t_b, f_b) = recent[0], recent[-1]
                    fps = (f_b - f_a) / max(t_b - t_a, 1e-6)
                out.append(CameraProgress(cam, n, self._last[cam], round(min(fps, 1000.0), 2)))
            return tuple(out)


@dataclass(frozen=True, slots=True)
class CameraBeat:
    deployment_id: int
    camera_id: str
    last_frame_at_s: float
    """Wall-clock time (epoch seconds, the database's clock) of the last processed frame."""
    age_s: float
    state: Liveness
    frames: int
    fps: float = 0.0
    source: BeatSource = "pipeline"
    """``pipeline``: a pipeline writing to this database (``overt run``, workers, ``overt worker``);
    ``edge``: an edge node's report to this centre."""


@dataclass(frozen=True, slots=True)
class PipelineHealth:
    state: Liveness
    """The best camera's state (``none`` when no camera ever reported)."""
    cameras: tuple[CameraBeat, ...]


class StoredBeat(Protocol):
    """A heartbeat row as the store returns it (``overt.store.repositories.heartbeats``)."""

    @property
    def deployment_id(self) -> int: ...
    @property
    def camera_id(self) -> str: ...
    @property
    def last_frame_at_s(self) -> float: ...
    @property
    def frames(self) -> int: ...
    @property
    def fps(self) -> float: ...
    @property
    def source(self) -> str: ...


def health(rows: Sequence[StoredBeat], now_s: float) -> PipelineHealth:
    """Each camera's state from its stored beat, aged at ``now_s`` (the same clock as the rows)."""
    cams = tuple(
        CameraBeat(
            r.deployment_id,
            r.camera_id,
            r.last_frame_at_s,
            round(max(0.0, now_s - r.last_frame_at_s), 1),
            classify(max(0.0, now_s - r.last_frame_at_s)),
            r.frames,
            r.fps,
            "edge" if r.source == "edge" else "pipeline",
        )
        for r in sorted(rows, key=lambda r: (r.deployment_id, r.camera_id))
    )
    best: Liveness = max((c.state for c in cams), key=_RANK.__getitem__, default="none")
    return PipelineHealth(best, cams)
