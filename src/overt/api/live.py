"""The latest redacted frame and camera state of each running deployment (in memory only).

Frames reach the hub already redacted (every face that is not an alert blurred): from the
local pipeline in ``overt run`` or with an edge alert's context thumbnail. Nothing here is
written to disk; a restart forgets it. Whether cameras are processing frames is not held here
but in the database (:mod:`overt.deployments.liveness`), shared by every process.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LiveState:
    camera_connected: bool
    camera_message: str
    frame_jpeg: bytes | None
    frame_at_s: float | None


class LiveHub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[int, LiveState] = {}

    def set_camera(self, deployment_id: int, connected: bool, message: str = "") -> None:
        with self._lock:
            old = self._state.get(deployment_id)
            self._state[deployment_id] = LiveState(
                connected, message, old.frame_jpeg if old else None, old.frame_at_s if old else None
            )

    def update_frame(self, deployment_id: int, jpeg: bytes) -> None:
        with self._lock:
            old = self._state.get(deployment_id)
            self._state[deployment_id] = LiveState(
                True if old is None else old.camera_connected,
                "" if old is None else old.camera_message,
                jpeg,
                time.monotonic(),
            )

    def update_frame_b64(self, deployment_id: int, data: str) -> None:
        try:
            jpeg = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            return
        if jpeg.startswith(b"\xff\xd8"):
            self.update_frame(deployment_id, jpeg)

    def get(self, deployment_id: int) -> LiveState | None:
        with self._lock:
            return self._state.get(deployment_id)

    def forget(self, deployment_id: int) -> None:
        with self._lock:
            self._state.pop(deployment_id, None)
