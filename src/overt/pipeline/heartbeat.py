"""Pipeline heartbeat: when did each camera last have a frame processed, and is that "live"?

"Live" means frames are being processed now, nothing less: the console shows a camera as
``live`` only while its last processed frame is younger than :data:`LIVE_WITHIN_S`, ``stale``
(amber) up to :data:`DOWN_AFTER_S`, and ``down`` (red) after that. With no pipeline at all
(only ``overt serve``) there are no heartbeats and the state is ``none``: nothing says live.
Held in memory only; a restart forgets it (and so says ``none`` until frames flow again).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

LIVE_WITHIN_S = 5.0
"""A camera whose last frame was processed less than this long ago is live."""
DOWN_AFTER_S = 30.0
"""After this long without a processed frame a camera is down (before it: stale)."""

Liveness = Literal["live", "stale", "down", "none"]
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
class CameraBeat:
    deployment_id: int
    camera_id: str
    last_frame_at_s: float
    """Wall-clock time (epoch seconds) of the last processed frame."""
    age_s: float
    state: Liveness
    frames: int


@dataclass(frozen=True, slots=True)
class PipelineHealth:
    state: Liveness
    """The best camera's state (``none`` when no camera ever reported)."""
    cameras: tuple[CameraBeat, ...]


class Heartbeats:
    """Thread-safe: the pipeline thread beats, the server reads."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._beats: dict[tuple[int, str], tuple[float, int]] = {}

    def beat(self, deployment_id: int, camera_id: str) -> None:
        now = self._clock()
        with self._lock:
            _, n = self._beats.get((deployment_id, camera_id), (0.0, 0))
            self._beats[(deployment_id, camera_id)] = (now, n + 1)

    def forget(self, deployment_id: int) -> None:
        with self._lock:
            for k in [k for k in self._beats if k[0] == deployment_id]:
                del self._beats[k]

    def health(self, deployment_id: int | None = None) -> PipelineHealth:
        now = self._clock()
        with self._lock:
            items = sorted(self._beats.items())
        cams = tuple(
            CameraBeat(dep, cam, at, round(max(0.0, now - at), 1), classify(max(0.0, now - at)), n)
            for (dep, cam), (at, n) in items
            if deployment_id is None or dep == deployment_id
        )
        best: Liveness = max((c.state for c in cams), key=_RANK.__getitem__, default="none")
        return PipelineHealth(best, cams)
