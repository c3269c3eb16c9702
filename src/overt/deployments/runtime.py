"""Run a deployment's live pipeline beside the server, following the deployment's state.

``overt run``: when the deployment becomes active (started from the console or the CLI) the
runtime loads its sealed watch-list snapshot into memory, opens the cameras and starts the
pipeline (:mod:`overt.pipeline.compose`); when it stops (by hand, or at its planned end) the
pipeline stops. Alerts go to a sink: :class:`~overt.deployments.sinks.StoreAlertSink` (same
machine) or the webhook sink (edge mode). Only alerts and counters leave the pipeline.

Failures: a *permanent* one (the authorised watch list is empty, its templates are from no or
another model, the snapshot was destroyed, a camera URI is invalid...) cannot be cured by
trying again. The deployment is stopped once with the reason ``failed to start: <reason>``
(persisted and audited; ``overt deployment show`` and the console show it), everything opened
for the attempt is closed, and nothing is retried until someone starts it again. A *transient*
one (the database is busy, an unexpected error) is retried with exponential backoff.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from overt.alerts.ingest_evidence import node_key
from overt.alerts.sinks import AlertSink
from overt.config import EngineConfig, PipelineConfig, SourceConfig
from overt.deployments.gallery import LiveSnapshot, deployment_pipeline_config, load_live_snapshot
from overt.deployments.liveness import Liveness
from overt.deployments.service import DeploymentService
from overt.deployments.sinks import LiveFrames, LivePreview
from overt.domain.leases import Fence
from overt.errors import (
    ConfigError,
    CryptoError,
    GovernanceError,
    InputError,
    ModelError,
    OvertError,
    StaleLeaseError,
)
from overt.pipeline import Pipeline
from overt.pipeline.compose import compose_pipeline
from overt.pipeline.heartbeat import CameraProgress
from overt.pipeline.workers import ProcessPipeline
from overt.store.store import Store

log = logging.getLogger(__name__)

PERMANENT_ERRORS: tuple[type[OvertError], ...] = (ConfigError, InputError, GovernanceError, CryptoError, ModelError)
"""Errors that trying again cannot cure (configuration, input, governance, keys, models)."""

FAILED_TO_START = "failed to start"


class EmptyWatchlistError(GovernanceError):
    """The deployment's authorised watch list holds no subject: nothing could ever match."""


def is_permanent(exc: BaseException) -> bool:
    return isinstance(exc, PERMANENT_ERRORS)


@dataclass
class SupervisorStatus:
    running: bool = False
    runs: int = 0
    launches: int = 0
    last_error: str | None = None
    failed: str | None = None
    alerts: int = 0
    faces: int = 0
    history: list[str] = field(default_factory=list)


@dataclass
class Backoff:
    """Exponential backoff for transient failures: ``first_s``, doubled per failure, capped."""

    first_s: float = 1.0
    max_s: float = 60.0
    failures: int = 0
    next_at: float = 0.0

    def failed(self, now: float) -> float:
        delay = float(min(self.max_s, self.first_s * 2.0**self.failures))
        self.failures += 1
        self.next_at = now + delay
        return delay

    def ready(self, now: float) -> bool:
        return now >= self.next_at

    def reset(self) -> None:
        self.failures = 0
        self.next_at = 0.0


class HeartbeatSink(Protocol):
    """Where the running pipeline's per-camera progress goes, twice a second: the database
    (:class:`~overt.deployments.liveness.Liveness`) or an edge node's centre
    (:class:`~overt.deployments.edge_heartbeat.EdgeHeartbeat`). Must not block for long."""

    def report(self, deployment_id: int, progress: Sequence[CameraProgress]) -> None: ...


class PipelineSupervisor:
    """Starts/stops the pipeline of one deployment as its state changes (a daemon thread)."""

    def __init__(
        self,
        store: Store,
        deployment_id: int,
        sources: Sequence[str],
        *,
        engine_factory: Callable[[], object],
        sink_factory: Callable[[], AlertSink],
        live: LiveFrames | None = None,
        pipeline_config: PipelineConfig | None = None,
        source_config: SourceConfig | None = None,
        realtime: bool = True,
        poll_s: float = 0.5,
        backoff: Backoff | None = None,
        engine_config: EngineConfig | None = None,
        fence: Fence | None = None,
        on_stale: Callable[[StaleLeaseError], None] | None = None,
        heartbeat: HeartbeatSink | None = None,
    ) -> None:
        """``fence``: the fencing token of a worker leading the deployment under a lease; the
        counters and a failure are written under it, and a refused (stale) write stops the
        pipeline for good and is reported to ``on_stale``."""
        if not sources:
            raise ConfigError("overt run needs at least one --source")
        self.store = store
        self.deployment_id = deployment_id
        self.sources = list(sources)
        self.engine_factory = engine_factory
        self.sink_factory = sink_factory
        self.live = live
        self.pipeline_config = pipeline_config or PipelineConfig()
        self.source_config = source_config
        self.realtime = realtime
        self.poll_s = poll_s
        self.backoff = backoff or Backoff()
        self.engine_config = engine_config  # what each worker process builds its engine from
        self.fence = fence
        self.on_stale = on_stale
        self.deployments = DeploymentService(store)
        self.heartbeat: HeartbeatSink = heartbeat if heartbeat is not None else Liveness(store)
        """Every camera's heartbeat (default: into this store, seen by every API process)."""
        self.status = SupervisorStatus()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="overt-supervisor", daemon=True)
        self._pipeline: Pipeline | ProcessPipeline | None = None
        self._sink: AlertSink | None = None
        self._exhausted = False
        self._faces_recorded = 0
        self._launching = False
        self._gave_up = False
        self._fenced = False  # for good: a stale leader never runs this deployment again
        self._snapshot: LiveSnapshot | None = None
        self._health_message = ""
        self.preview: LivePreview | None = None

    def start(self) -> PipelineSupervisor:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 15.0) -> None:
        self._stop.set()
        self._thread.join(timeout_s)
        self._halt("server stopped")
        sink, self._sink = self._sink, None
        if sink is not None:
            sink.close()

    # -- loop ---------------------------------------------------------------------------------------

    def _camera(self, connected: bool, message: str) -> None:
        if self.live is not None:
            self.live.set_camera(self.deployment_id, connected, message)

    def _loop(self) -> None:
        self._camera(False, "waiting for the deployment to start")
        while not self._stop.wait(self.poll_s):
            try:
                self._step()
            except Exception as exc:  # the supervisor must survive anything and keep the server up
                self._failed(exc)

    def _stale(self, exc: StaleLeaseError) -> None:
        """Another worker leads this deployment now: never write or retry again."""
        self._fenced = True
        self.status.failed = "fenced: another worker leads this deployment"
        if self.on_stale is not None:
            self.on_stale(exc)

    def _failed(self, exc: Exception) -> None:
        launching, self._launching = self._launching, False
        if isinstance(exc, StaleLeaseError):
            self._stale(exc)
            self._halt("fenced: another worker leads this deployment")
            return
        self._halt("pipeline failed")
        what = str(exc) if isinstance(exc, OvertError) else f"{exc.__class__.__name__}: {exc}"
        self.status.last_error = what
        if is_permanent(exc):
            reason = f"{FAILED_TO_START}: {what}" if launching else f"pipeline failed: {what}"
            log.error("deployment %d: %s (not retried)", self.deployment_id, reason)
            self.status.failed = reason
            self._gave_up = True  # until the deployment is stopped and started again
            self.status.history.append(reason)
            self._camera(False, reason)
            try:
                self.deployments.fail(self.deployment_id, reason, fence=self.fence)
            except StaleLeaseError as stale:
                self._stale(stale)
            except Exception:
                log.exception("deployment %d: recording the failure failed", self.deployment_id)
            return
        delay = self.backoff.failed(time.monotonic())
        log.warning("deployment %d: %s; retrying in %.0f s", self.deployment_id, what, delay)
        self._camera(False, f"error: {what}; retrying in {delay:.0f} s")

    def _step(self) -> None:
        if self._fenced:
            self._halt("fenced: another worker leads this deployment")
            return
        active = self.deployments.is_active(self.deployment_id)  # also applies the automatic stop
        p = self._pipeline
        if p is None:
            if active and not (self._exhausted or self._gave_up) and self.backoff.ready(time.monotonic()):
                self._launch()
            elif not active:
                self._exhausted = False  # a new start may replay the sources
                self._gave_up = False
                self.backoff.reset()
            return
        self._record_faces(p)
        self._beat(p)
        if active and self._snapshot is not None:
            self._snapshot.apply_revocations(p)  # removed watch-list entries stop matching at once
        self._health(p)
        if not active:
            self._halt("deployment stopped")
        elif p.wait(0):
            self._exhausted = True
            self._halt("camera disconnected: the stream ended")

    def _launch(self) -> None:
        self.status.launches += 1
        self._launching = True
        snap = load_live_snapshot(self.store, self.deployment_id, backend=self.pipeline_config.gallery_backend)
        if len(snap) == 0:
            raise EmptyWatchlistError("the authorised watch list is empty: authorise it again with subjects")
        gallery = snap.gallery()
        config = deployment_pipeline_config(self.store, self.deployment_id, self.pipeline_config)
        if self._sink is None:  # one sink for the supervisor's life: an edge spool outlives each run
            self._sink = self.sink_factory()
        pipeline: Pipeline | ProcessPipeline
        if config.workers > 1 and len(self.sources) > 1:
            # Camera groups in worker processes, each with its own engine built from the settings.
            pipeline = ProcessPipeline(
                self.sources,
                gallery,
                [self._sink],
                workers=config.workers,
                engine_config=self.engine_config,
                config=config,
                source_config=self.source_config,
                realtime=self.realtime,
                signer=node_key(self.store),
                snapshot_id=f"deployment:{self.deployment_id}",
            )
        else:
            pipeline = compose_pipeline(
                self.sources,
                self.engine_factory(),  # type: ignore[arg-type]
                gallery,
                [self._sink],
                config=config,
                source_config=self.source_config,
                realtime=self.realtime,
                signer=node_key(self.store),
                snapshot_id=f"deployment:{self.deployment_id}",
            )
        self._pipeline = pipeline
        self._snapshot = snap
        if self.live is not None:
            self._attach_previews(pipeline)
        self._faces_recorded = 0
        pipeline.start()
        self._launching = False
        self.backoff.reset()
        self.status.failed = None
        self.status.running = True
        self.status.runs += 1
        self.status.history.append("started")
        self._health_message = "camera connected"
        self._camera(True, "camera connected")

    def _attach_previews(self, p: Pipeline | ProcessPipeline) -> None:
        """Feed the live view from the pipeline's redaction (its per-camera frame writer slot).

        The pipeline has no public frame hook yet; it writes redacted frames to a camera's
        ``annotator`` (normally a video file). Only the first camera is previewed. Cameras in
        worker processes send their redacted thumbnails back (``ProcessPipeline.preview``).
        """
        if isinstance(p, ProcessPipeline):
            if self.live is not None and p.camera_ids:
                self.preview = LivePreview(self.live, self.deployment_id, camera_id=p.camera_ids[0])
                p.preview([p.camera_ids[0]], self.preview.publish_jpeg, every_s=self.preview.every_s)
            return
        cams = getattr(p, "_cams", None)
        if not cams or not hasattr(cams[0], "annotator") or cams[0].annotator is not None or self.live is None:
            return
        self.preview = LivePreview(self.live, self.deployment_id, camera_id=str(getattr(cams[0], "camera_id", "cam-1")))
        cams[0].annotator = self.preview

    def _health(self, p: Pipeline | ProcessPipeline) -> None:
        """Camera health for the console: the stream-integrity flags raised now, if any."""
        suspect = [f"{s.camera_id} {'+'.join(s.active)}" for s in p.integrity() if s.suspect]
        message = f"camera connected; integrity: {', '.join(suspect)}" if suspect else "camera connected"
        if message != self._health_message:
            self._health_message = message
            self._camera(True, message)

    def _beat(self, p: Pipeline | ProcessPipeline) -> None:
        """Report every camera's progress; a failure to report never stops the pipeline."""
        try:
            self.heartbeat.report(self.deployment_id, p.camera_progress())
        except Exception as exc:
            if self.status.last_error != (what := f"heartbeat not recorded: {exc.__class__.__name__}"):
                log.warning("deployment %d: %s", self.deployment_id, what)
                self.status.last_error = what

    def _record_faces(self, p: Pipeline | ProcessPipeline) -> None:
        faces = p.counters().faces_processed
        if faces > self._faces_recorded:
            self.deployments.record_faces_processed(self.deployment_id, faces - self._faces_recorded, fence=self.fence)
            self.status.faces += faces - self._faces_recorded
            self._faces_recorded = faces

    def _halt(self, why: str) -> None:
        p, self._pipeline = self._pipeline, None
        self._snapshot = None
        if p is None:
            return
        try:
            counters = p.close()
            faces = counters.faces_processed
            if faces > self._faces_recorded:
                try:
                    self.deployments.record_faces_processed(
                        self.deployment_id, faces - self._faces_recorded, fence=self.fence
                    )
                    self.status.faces += faces - self._faces_recorded
                except StaleLeaseError as exc:
                    self._stale(exc)
            self.status.alerts += counters.alerts
        finally:
            self._faces_recorded = 0
            self.status.running = False
            self.status.history.append(why)
            self._camera(False, why)
