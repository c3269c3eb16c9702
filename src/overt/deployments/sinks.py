"""Where a deployment's pipeline sends what leaves it: alerts into the store, a live preview.

:class:`StoreAlertSink` (same machine: alerts straight into the store, sealed, pushed to
consoles at once) and :class:`LivePreview` (the redacted frames the console's live view shows,
a JPEG thumbnail held in memory only). Both talk to the server through small protocols, so the
runtime does not depend on the web layer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

import numpy as np
import numpy.typing as npt

from overt.alerts.review import AlertService, IncomingAlert
from overt.domain.alerts import Alert
from overt.domain.leases import Fence
from overt.errors import StaleLeaseError
from overt.pipeline.redact import thumbnail_jpeg


class LiveFrames(Protocol):
    """The console's live view (``overt.api.live.LiveHub``)."""

    def update_frame(self, deployment_id: int, jpeg: bytes) -> None: ...

    def set_camera(self, deployment_id: int, connected: bool, message: str = "") -> None: ...


class AlertPublisher(Protocol):
    """Pushes a stored alert to open consoles (``overt.api.notifier.AlertNotifier``)."""

    def publish(self, alert_id: int) -> None:
        """Safe from any thread (the pipeline's sink runs off the event loop)."""


class StoreAlertSink:
    """Alerts of the local pipeline into the store (sealed crop), then pushed to consoles.

    ``fence``: a worker leading the deployment under a lease writes under its fencing token; a
    refused (stale) write is reported to ``on_stale`` and raised, so the pipeline stops at once.
    """

    def __init__(
        self,
        alerts: AlertService,
        deployment_id: int,
        *,
        notifier: AlertPublisher | None = None,
        live: LiveFrames | None = None,
        fence: Fence | None = None,
        on_stale: Callable[[StaleLeaseError], None] | None = None,
    ) -> None:
        self.alerts = alerts
        self.deployment_id = deployment_id
        self.notifier = notifier
        self.live = live
        self.fence = fence
        self.on_stale = on_stale
        self.stored = 0
        self.refused = 0

    def emit(self, alert: Alert) -> None:
        try:
            alert_id, dup = self.alerts.ingest(
                "pipeline", self.deployment_id, IncomingAlert.from_alert(alert), local=True, fence=self.fence
            )
        except StaleLeaseError as exc:
            self.refused += 1
            if self.on_stale is not None:
                self.on_stale(exc)
            raise
        if dup:
            return
        self.stored += 1
        if self.live is not None:
            self.live.update_frame(self.deployment_id, alert.context_jpeg)
        if self.notifier is not None:
            self.notifier.publish(alert_id)

    def close(self, timeout_s: float = 5.0) -> None:
        return None


class LivePreview:
    """Receives the pipeline's redacted frames (every non-matching face blurred) for the console's
    live view: a few per second, as a JPEG thumbnail held in memory only."""

    def __init__(
        self,
        live: LiveFrames,
        deployment_id: int,
        *,
        every_s: float = 0.5,
        longer_side_px: int = 640,
        camera_id: str = "cam-1",
    ) -> None:
        self.live = live
        self.deployment_id = deployment_id
        self.camera_id = camera_id
        self.every_s = every_s
        self.longer_side_px = longer_side_px
        self.fps = 25.0
        self.frames = 0
        self.published = 0
        self._last = 0.0

    def due(self) -> bool:
        """Whether a frame written now would be kept: the pipeline detects and redacts only those
        (a frame in ``every_s``), not every frame of the camera."""
        return time.monotonic() - self._last >= self.every_s

    def write(self, frame: npt.NDArray[np.uint8]) -> None:
        self.frames += 1  # the heartbeat is the pipeline's own (``Pipeline.camera_progress``)
        now = time.monotonic()
        if now - self._last < self.every_s:
            return
        self._last = now
        self.live.update_frame(self.deployment_id, thumbnail_jpeg(frame, self.longer_side_px))
        self.published += 1

    def publish_jpeg(self, camera_id: str, jpeg: bytes) -> None:
        """A redacted thumbnail made in a worker process (``overt run --workers N``, at most one per
        ``every_s``): the live view's frame for the previewed camera (its heartbeat comes with the
        worker's ``camera_progress``)."""
        if camera_id == self.camera_id:
            self.live.update_frame(self.deployment_id, jpeg)
            self.published += 1

    def close(self) -> None:
        return None
