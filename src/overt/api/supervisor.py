"""Run a deployment's live pipeline beside the server, following the deployment's state.

``overt run``: when the deployment becomes active (started from the console or the CLI) the
supervisor loads its sealed watch-list snapshot into memory, opens the cameras and starts the
pipeline; when it stops (by hand, or at its planned end) the pipeline stops. Alerts go to a
sink: :class:`StoreAlertSink` (same machine: straight into the store, pushed to consoles at
once) or the webhook sink (edge mode: HTTPS to the central server with a device token,
spooled while it is unreachable). Only alerts and counters leave the pipeline.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from overt.alerts.review import AlertService, IncomingAlert
from overt.alerts.sinks import AlertSink
from overt.api.live import LiveHub
from overt.api.notifier import AlertNotifier
from overt.config import PipelineConfig, SourceConfig
from overt.deployments.service import DeploymentService
from overt.domain.alerts import Alert
from overt.errors import OvertError
from overt.matching.gallery import Gallery, build_gallery
from overt.pipeline import Pipeline
from overt.pipeline.redact import thumbnail_jpeg
from overt.sources import open_source
from overt.store.store import Store

log = logging.getLogger(__name__)


class StoreAlertSink:
    """Alerts of the local pipeline into the store (sealed crop), then pushed to consoles."""

    def __init__(
        self,
        alerts: AlertService,
        deployment_id: int,
        *,
        notifier: AlertNotifier | None = None,
        live: LiveHub | None = None,
    ) -> None:
        self.alerts = alerts
        self.deployment_id = deployment_id
        self.notifier = notifier
        self.live = live
        self.stored = 0

    def emit(self, alert: Alert) -> None:
        alert_id, dup = self.alerts.ingest("pipeline", self.deployment_id, IncomingAlert.from_alert(alert))
        if dup:
            return
        self.stored += 1
        if self.live is not None:
            self.live.update_frame(self.deployment_id, alert.context_jpeg)
        if self.notifier is not None:
            self.notifier.publish_threadsafe(alert_id)

    def close(self, timeout_s: float = 5.0) -> None:
        return None


class LivePreview:
    """Receives the pipeline's redacted frames (every non-matching face blurred) for the console's
    live view: a few per second, as a JPEG thumbnail held in memory only (``LiveHub``)."""

    def __init__(self, live: LiveHub, deployment_id: int, *, every_s: float = 0.5, longer_side_px: int = 640) -> None:
        self.live = live
        self.deployment_id = deployment_id
        self.every_s = every_s
        self.longer_side_px = longer_side_px
        self.fps = 25.0
        self.frames = 0
        self.published = 0
        self._last = 0.0

    def write(self, frame: npt.NDArray[np.uint8]) -> None:
        self.frames += 1
        now = time.monotonic()
        if now - self._last < self.every_s:
            return
        self._last = now
        self.live.update_frame(self.deployment_id, thumbnail_jpeg(frame, self.longer_side_px))
        self.published += 1

    def close(self) -> None:
        return None


def snapshot_gallery(store: Store, deployment_id: int, *, backend: str = "auto") -> Gallery:
    """The deployment's frozen watch list as a gallery keyed by entry id (memory only; audited)."""
    with store.transaction() as tx:
        snap = tx.snapshots.load(deployment_id)
        tx.audit.append("system", "snapshot.loaded", f"deployment:{deployment_id}", {"subjects": len(snap)})
    subjects = [str(s.entry_id) for s in snap.subjects]
    if not subjects:
        vectors = np.zeros((0, 512), dtype=np.float32)
    else:
        vectors = np.stack([s.template.vector for s in snap.subjects]).astype(np.float32)
    return build_gallery(subjects, vectors, model_id=snap.model_id, backend=backend)  # type: ignore[arg-type]


def deployment_pipeline_config(store: Store, deployment_id: int, base: PipelineConfig) -> PipelineConfig:
    """The pipeline settings with the deployment's authorised alert threshold (``min_similarity``).

    The threshold was justified and authorised with the deployment: the pipeline must use it, not
    the model's default.
    """
    view = DeploymentService(store).show(deployment_id)
    return base.model_copy(update={"min_similarity": view.deployment.plan.min_similarity})


@dataclass
class SupervisorStatus:
    running: bool = False
    runs: int = 0
    last_error: str | None = None
    alerts: int = 0
    faces: int = 0
    history: list[str] = field(default_factory=list)


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
        live: LiveHub | None = None,
        pipeline_config: PipelineConfig | None = None,
        source_config: SourceConfig | None = None,
        realtime: bool = True,
        poll_s: float = 0.5,
    ) -> None:
        if not sources:
            raise OvertError("overt run needs at least one --source")
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
        self.deployments = DeploymentService(store)
        self.status = SupervisorStatus()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="overt-supervisor", daemon=True)
        self._pipeline: Pipeline | None = None
        self._sink: AlertSink | None = None
        self._exhausted = False
        self._faces_recorded = 0
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
            except OvertError as exc:
                self.status.last_error = str(exc)
                log.error("deployment %d: %s", self.deployment_id, exc)
                self._halt(f"error: {exc}")
            except Exception as exc:  # the supervisor must survive anything and keep the server up
                self.status.last_error = f"{exc.__class__.__name__}: {exc}"
                log.exception("deployment %d: pipeline failed", self.deployment_id)
                self._halt("pipeline failed")

    def _step(self) -> None:
        active = self.deployments.is_active(self.deployment_id)  # also applies the automatic stop
        p = self._pipeline
        if p is None:
            if active and not self._exhausted:
                self._launch()
            elif not active:
                self._exhausted = False  # a new start may replay the sources
            return
        self._record_faces(p)
        if not active:
            self._halt("deployment stopped")
        elif p.wait(0):
            self._exhausted = True
            self._halt("camera disconnected: the stream ended")

    def _launch(self) -> None:
        gallery = snapshot_gallery(self.store, self.deployment_id, backend=self.pipeline_config.gallery_backend)
        engine = self.engine_factory()
        cams = [
            open_source(uri, camera_id=f"cam-{i + 1}", realtime=self.realtime, config=self.source_config)
            for i, uri in enumerate(self.sources)
        ]
        if self._sink is None:  # one sink for the supervisor's life: an edge spool outlives each run
            self._sink = self.sink_factory()
        config = deployment_pipeline_config(self.store, self.deployment_id, self.pipeline_config)
        self._pipeline = Pipeline(cams, engine, gallery, [self._sink], config=config)  # type: ignore[arg-type]
        if self.live is not None:
            self._attach_previews(self._pipeline)
        self._faces_recorded = 0
        self._pipeline.start()
        self.status.running = True
        self.status.runs += 1
        self.status.history.append("started")
        self._camera(True, "camera connected")

    def _attach_previews(self, p: Pipeline) -> None:
        """Feed the live view from the pipeline's redaction (its per-camera frame writer slot).

        The pipeline has no public frame hook yet; it writes redacted frames to a camera's
        ``annotator`` (normally a video file). Only the first camera is previewed.
        """
        cams = getattr(p, "_cams", None)
        if not cams or not hasattr(cams[0], "annotator") or cams[0].annotator is not None or self.live is None:
            return
        self.preview = LivePreview(self.live, self.deployment_id)
        cams[0].annotator = self.preview

    def _record_faces(self, p: Pipeline) -> None:
        faces = p.counters().tracks_started
        if faces > self._faces_recorded:
            self.deployments.record_faces_processed(self.deployment_id, faces - self._faces_recorded)
            self._faces_recorded = faces

    def _halt(self, why: str) -> None:
        p, self._pipeline = self._pipeline, None
        if p is None:
            return
        try:
            counters = p.close()
            faces = counters.tracks_started
            if faces > self._faces_recorded:
                self.deployments.record_faces_processed(self.deployment_id, faces - self._faces_recorded)
            self.status.alerts += counters.alerts
        finally:
            self._faces_recorded = 0
            self.status.running = False
            self.status.history.append(why)
            self._camera(False, why)
