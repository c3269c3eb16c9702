"""An edge node tells its centre that its cameras are processing frames.

``overt run --server URL`` hands each camera's progress to :class:`EdgeHeartbeat` (never
blocking: the latest progress replaces the previous one); a daemon thread posts it every
``every_s`` to ``POST /api/v1/deployments/{id}/heartbeat`` with the device token, trying the
centre's addresses in order (as the alert outbox does). A centre that is down costs a failed
attempt per address and a warning when it goes away; the next beat is tried ``every_s`` later.
Beats are not kept: only the newest matters, and it carries the age of the last frame.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict

from overt.errors import ConfigError
from overt.pipeline.heartbeat import CameraProgress, reports

log = logging.getLogger(__name__)


class EdgeHeartbeat:
    def __init__(self, servers: Sequence[str], token: str, *, every_s: float = 2.0, timeout_s: float = 3.0) -> None:
        if not servers:
            raise ConfigError("an edge heartbeat needs the centre's address")
        self.servers = [s.rstrip("/") for s in servers]
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.every_s = every_s
        self.timeout_s = timeout_s
        self.sent = 0
        self.failed = 0
        self._latest: tuple[int, tuple[CameraProgress, ...]] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._reachable = True
        self._problem = ""
        self._thread = threading.Thread(target=self._loop, name="overt-edge-heartbeat", daemon=True)

    def start(self) -> EdgeHeartbeat:
        self._thread.start()
        return self

    def report(self, deployment_id: int, progress: Sequence[CameraProgress]) -> None:
        with self._lock:
            self._latest = (deployment_id, tuple(progress))

    def close(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            with self._lock:
                latest = self._latest
            if latest is None:
                continue
            deployment_id, progress = latest
            beats = reports(progress, time.time())
            if not beats:
                continue
            body = json.dumps({"cameras": [asdict(b) for b in beats]}).encode()
            ok = any(self._post(f"{s}/api/v1/deployments/{deployment_id}/heartbeat", body) for s in self.servers)
            if ok:
                self.sent += 1
                if not self._reachable:
                    log.info("edge heartbeat: the centre hears it again")
            else:
                self.failed += 1
                if self._reachable:
                    log.warning(
                        "edge heartbeat: no centre address accepted it (%s); trying again every %.0f s",
                        self._problem,
                        self.every_s,
                    )
            self._reachable = ok

    def _post(self, url: str, body: bytes) -> bool:
        req = urllib.request.Request(url, data=body, headers=self._headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:  # noqa: S310 (scheme checked by overt run)
                return 200 <= int(resp.status) < 300
        except urllib.error.HTTPError as exc:
            self._problem = f"HTTP {exc.code}"
            return False
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            self._problem = exc.__class__.__name__
            return False
