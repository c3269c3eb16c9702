"""Liveness of a deployment's cameras, shared by every process through the database.

Writers: the deployment runtime of ``overt run`` (every camera, worker processes included) and of
``overt worker`` writes its pipeline's progress here; on an edge node
:class:`overt.deployments.edge_heartbeat.EdgeHeartbeat` posts it to the centre, whose ingest route
calls :meth:`Liveness.record_device`. Readers: the console's health endpoint and the alert
WebSocket's heartbeat, in whichever API process serves them; the rules (live / stale / down) are
:mod:`overt.pipeline.heartbeat`.

Writes are at most one per camera per ``write_every_s`` (one small upsert); reads are cached for
``read_cache_s`` so many open consoles cost one query. Heartbeats are not audited: they are
operational telemetry several times a minute per camera, carry nothing about people, and a
camera's first processed frame is kept in its row (``first_frame_at_s``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from overt.domain.deployments import DeploymentState
from overt.errors import AuthError, GovernanceError
from overt.pipeline.heartbeat import BeatSource, CameraProgress, CameraReport, PipelineHealth, health, reports
from overt.store.repositories.heartbeats import BeatIn, HeartbeatRepository
from overt.store.store import Store
from overt.users.tokens import check_device_camera

READ_CACHE_S = 0.5
"""An API process answers health from a read at most this old (many consoles: one query)."""
DEVICE_EVERY_S = 0.5
"""A device token's heartbeats are accepted at most this often (per API process)."""


@dataclass(frozen=True, slots=True)
class DeviceBeats:
    """What became of an edge node's post: cameras written now, or how long it must wait first."""

    recorded: int
    retry_after_s: float


class Liveness:
    def __init__(
        self,
        store: Store,
        *,
        write_every_s: float = 1.0,
        read_cache_s: float = READ_CACHE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.write_every_s = write_every_s
        self.read_cache_s = read_cache_s
        self._clock = clock
        self._lock = threading.Lock()
        self._written: dict[tuple[int, str], float] = {}
        self._cache: dict[int | None, tuple[float, PipelineHealth]] = {}
        self._device_posts: dict[int, float] = {}
        self.device_every_s = DEVICE_EVERY_S

    def _is_due(self, deployment_id: int, camera_id: str, now: float) -> bool:
        last = self._written.get((deployment_id, camera_id))
        return last is None or now - last >= self.write_every_s

    def _due(self, deployment_id: int, beats: Sequence[CameraReport]) -> list[CameraReport]:
        now = self._clock()
        with self._lock:
            latest = {b.camera_id: b for b in beats}  # one row per camera per statement
            due = [b for b in latest.values() if self._is_due(deployment_id, b.camera_id, now)]
            for b in due:
                self._written[(deployment_id, b.camera_id)] = now
        return due

    def record(self, deployment_id: int, beats: Sequence[CameraReport], *, source: BeatSource = "pipeline") -> int:
        """Store the cameras' beats that are due (at most one per camera per ``write_every_s``): how many."""
        due = self._due(deployment_id, beats)
        if due:
            with self.store.db.session() as s:
                HeartbeatRepository(s).record(
                    deployment_id, source, [BeatIn(b.camera_id, b.age_s, b.frames, b.fps) for b in due]
                )
        return len(due)

    def report(self, deployment_id: int, progress: Sequence[CameraProgress]) -> None:
        """A pipeline on this host: its cameras' progress (this host's clock) as beats (a
        :class:`~overt.deployments.runtime.HeartbeatSink`)."""
        self.record(deployment_id, reports(progress, time.time()))

    def device_wait_s(self, token_id: int) -> float:
        """Seconds a device token must still wait before its next heartbeat (0: accepted now, and
        counted). An edge sends one every 2 s; anything much faster is refused before any database work."""
        now = self._clock()
        with self._lock:
            last = self._device_posts.get(token_id)
            if last is not None and now - last < self.device_every_s:
                return self.device_every_s - (now - last)
            self._device_posts[token_id] = now
            if len(self._device_posts) > 10_000:  # forget the oldest: memory stays bounded
                for k in sorted(self._device_posts, key=self._device_posts.__getitem__)[:5_000]:
                    del self._device_posts[k]
            return 0.0

    def from_device(
        self,
        deployment_id: int,
        beats: Sequence[CameraReport],
        *,
        token_id: int,
        bound_deployment_id: int | None,
        bound_cameras: tuple[str, ...] | None,
    ) -> DeviceBeats:
        """An edge node's post: its device token must be bound to this deployment (and to these
        cameras, if it names any); at most one post per token every ``device_every_s`` (a refused
        one says how long to wait, before any database work); only for an active deployment."""
        if bound_deployment_id != deployment_id:
            raise AuthError("this device token is bound to another deployment")
        for b in beats:
            check_device_camera(bound_cameras, b.camera_id)
        wait_s = self.device_wait_s(token_id)
        if wait_s > 0:
            return DeviceBeats(recorded=0, retry_after_s=wait_s)
        return DeviceBeats(recorded=self.record_device(deployment_id, beats), retry_after_s=0.0)

    def record_device(self, deployment_id: int, beats: Sequence[CameraReport]) -> int:
        """An edge node's beats (its device token already checked for this deployment and cameras):
        only for an active deployment."""
        with self.store.transaction() as tx:
            if tx.deployments.get(deployment_id).state is not DeploymentState.ACTIVE:
                raise GovernanceError(f"deployment {deployment_id} is not active: no heartbeat is recorded")
        return self.record(deployment_id, beats, source="edge")

    def health(self, deployment_id: int | None = None) -> PipelineHealth:
        """Every camera of the active deployments (or of one), live / stale / down by the database's clock."""
        now = self._clock()
        with self._lock:
            hit = self._cache.get(deployment_id)
        if hit is not None and now - hit[0] < self.read_cache_s:
            return hit[1]
        with self.store.db.session() as s:
            db_now, rows = HeartbeatRepository(s).active(deployment_id)
        h = health(rows, db_now)
        with self._lock:
            self._cache[deployment_id] = (now, h)
        return h
