"""Where alerts go. Only an ``Alert`` has a sink: nothing else about a face can be written.

JSONL lines carry no image unless asked (``include_images``, the CLI's ``--include-crops``, which
warns): a plain-text file must not hold biometric data. No file is named after a person.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from pathlib import Path
from typing import Any, Protocol, TextIO, runtime_checkable

from overt.domain.alerts import Alert
from overt.errors import StorageError


@runtime_checkable
class AlertSink(Protocol):
    """Receives decided alerts. ``emit`` must not block the pipeline for long; ``close`` flushes."""

    def emit(self, alert: Alert) -> None: ...

    def close(self, timeout_s: float = 5.0) -> None: ...


def alert_to_json(alert: Alert, *, include_images: bool = True) -> dict[str, Any]:
    """The JSON form of an alert (one JSONL line / one webhook body)."""
    q = alert.quality
    out: dict[str, Any] = {
        "alert_id": alert.alert_id,
        "subject": alert.subject,
        "similarity": round(alert.similarity, 4),
        "camera": alert.camera_id,
        "track_id": alert.track_id,
        "frame_index": alert.frame_index,
        "pts_s": round(alert.pts_s, 3),
        "first_seen_pts_s": round(alert.first_seen_pts_s, 3),
        "alerted_at": alert.alerted_at.isoformat(),
        "latency_ms": round(alert.latency_ms, 1),
        "votes": alert.votes,
        "window": alert.window,
        "model_id": alert.model_id,
        "xyxy": [round(float(v), 1) for v in alert.xyxy],
        "quality": {
            "size_px": round(q.size_px, 1),
            "det_score": round(q.det_score, 3),
            "sharpness": round(q.sharpness, 1),
            "yaw_deg": round(q.yaw_deg, 1),
            "roll_deg": round(q.roll_deg, 1),
        },
    }
    out["integrity_flags"] = list(alert.integrity_flags)
    if alert.pad is not None:
        out["pad"] = {"backend": alert.pad.backend, "score": round(alert.pad.score, 4), "live": alert.pad.live}
    if alert.evidence is not None:
        ev = alert.evidence
        out["evidence"] = {
            "record_b64": base64.b64encode(ev.record).decode("ascii"),
            "signature_b64": base64.b64encode(ev.signature).decode("ascii"),
            "public_key_b64": base64.b64encode(ev.public_key).decode("ascii"),
        }
    if include_images:
        out["probe_crop_jpeg_b64"] = base64.b64encode(alert.probe_crop_jpeg).decode("ascii")
        out["context_jpeg_b64"] = base64.b64encode(alert.context_jpeg).decode("ascii")
        if alert.scene_jpeg is not None:
            out["scene_jpeg_b64"] = base64.b64encode(alert.scene_jpeg).decode("ascii")
    return out


class JsonlSink:
    """Appends one JSON line per alert, flushed and fsynced (an alert survives a crash)."""

    def __init__(self, path: str | Path, *, include_images: bool = False) -> None:
        self.path = Path(path)
        self.include_images = include_images
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh: TextIO | None = self.path.open("a", encoding="utf-8")
        except OSError as exc:
            raise StorageError(f"cannot open alert file {self.path}: {exc.strerror or exc}") from exc

    def emit(self, alert: Alert) -> None:
        line = json.dumps(alert_to_json(alert, include_images=self.include_images), separators=(",", ":"))
        with self._lock:
            if self._fh is None:
                raise StorageError("alert file already closed")
            try:
                self._fh.write(line + "\n")
                self._fh.flush()
                os.fsync(self._fh.fileno())
            except OSError as exc:
                raise StorageError(f"cannot write alert file {self.path}: {exc.strerror or exc}") from exc

    def close(self, timeout_s: float = 5.0) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None


class StreamSink:
    """One human-readable line per alert on a text stream (no images)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def emit(self, alert: Alert) -> None:
        line = (
            f"ALERT {alert.alerted_at.isoformat(timespec='seconds')} camera={alert.camera_id} "
            f"track={alert.track_id} frame={alert.frame_index} t={alert.pts_s:.2f}s "
            f"subject={alert.subject} similarity={alert.similarity:.3f} latency={alert.latency_ms:.0f}ms\n"
        )
        with self._lock:
            self._stream.write(line)
            self._stream.flush()

    def close(self, timeout_s: float = 5.0) -> None:
        return None


class MemorySink:
    """Keeps alerts in a list (tests, the demo)."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []
        self._lock = threading.Lock()

    def emit(self, alert: Alert) -> None:
        with self._lock:
            self.alerts.append(alert)

    def close(self, timeout_s: float = 5.0) -> None:
        return None
