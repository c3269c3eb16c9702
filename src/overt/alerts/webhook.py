"""Webhook sink: HTTP POST of each alert as JSON, with retries, backoff and a spool file.

``emit`` only queues; a worker thread delivers. A delivery is retried ``max_attempts`` times
with exponential backoff (``backoff_s`` doubling up to ``max_backoff_s``); an alert that still
cannot be delivered is appended to the spool file (JSONL) and retried from there every
``spool_retry_s`` seconds and at the next start. Alerts still queued when the sink closes are
spooled too. An alert is never dropped silently: it is delivered, or it sits in the spool.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from overt.alerts.sinks import alert_to_json
from overt.domain.alerts import Alert
from overt.errors import ConfigError, StorageError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WebhookStats:
    delivered: int
    spooled: int
    failed_attempts: int
    pending: int


class WebhookSink:
    """POSTs alerts to ``url``; undeliverable ones wait in ``spool_path`` and are retried."""

    def __init__(
        self,
        url: str,
        spool_path: str | Path,
        *,
        timeout_s: float = 5.0,
        max_attempts: int = 4,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        spool_retry_s: float = 10.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"webhook URL must be http(s)://host/..., got {url!r}")
        if max_attempts < 1 or timeout_s <= 0 or backoff_s < 0 or spool_retry_s <= 0:
            raise ConfigError("invalid webhook retry settings")
        self.url = url
        self.spool_path = Path(spool_path)
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.spool_retry_s = spool_retry_s
        self._headers = {"Content-Type": "application/json", **(headers or {})}
        self._queue: queue.Queue[str] = queue.Queue()
        self._stop = threading.Event()
        self._spool_lock = threading.Lock()
        self._delivered = 0
        self._spooled = 0
        self._failed = 0
        try:
            self.spool_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create spool folder for {self.spool_path}: {exc}") from exc
        self._thread = threading.Thread(target=self._work, name="overt-webhook", daemon=True)
        self._thread.start()

    # -- public ---------------------------------------------------------------------------------

    def emit(self, alert: Alert) -> None:
        if self._stop.is_set():
            self._spool([json.dumps(alert_to_json(alert), separators=(",", ":"))])
            return
        self._queue.put(json.dumps(alert_to_json(alert), separators=(",", ":")))

    def stats(self) -> WebhookStats:
        return WebhookStats(self._delivered, self._spooled, self._failed, self._queue.qsize() + self.spool_size())

    def spool_size(self) -> int:
        with self._spool_lock:
            try:
                with self.spool_path.open(encoding="utf-8") as fh:
                    return sum(1 for line in fh if line.strip())
            except FileNotFoundError:
                return 0

    def retry_spool(self) -> int:
        """Try every spooled alert once; keep those that still fail. Returns how many were delivered."""
        with self._spool_lock:
            try:
                lines = [ln for ln in self.spool_path.read_text(encoding="utf-8").splitlines() if ln.strip()]
            except FileNotFoundError:
                return 0
            if not lines:
                return 0
            remaining: list[str] = []
            sent = 0
            for i, line in enumerate(lines):
                if self._post(line):
                    sent += 1
                else:
                    remaining.extend(lines[i:])  # the server is down again: keep the rest as it is
                    break
            self._rewrite_spool(remaining)
        self._delivered += sent
        if sent:
            log.info("webhook: delivered %d spooled alert(s), %d still spooled", sent, len(remaining))
        return sent

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop the worker; whatever is still queued goes to the spool."""
        self._stop.set()
        self._thread.join(timeout=timeout_s)
        leftovers: list[str] = []
        while True:
            try:
                leftovers.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if leftovers:
            self._spool(leftovers)

    # -- worker ---------------------------------------------------------------------------------

    def _work(self) -> None:
        next_spool_try = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_spool_try:
                try:
                    self.retry_spool()
                except OSError:
                    log.exception("webhook: cannot read the spool file")
                next_spool_try = now + self.spool_retry_s
            try:
                body = self._queue.get(timeout=min(0.2, self.spool_retry_s))
            except queue.Empty:
                continue
            if not self._deliver_with_retries(body):
                self._spool([body])

    def _deliver_with_retries(self, body: str) -> bool:
        delay = self.backoff_s
        for attempt in range(1, self.max_attempts + 1):
            if self._post(body):
                self._delivered += 1
                return True
            if attempt < self.max_attempts and self._stop.wait(delay):
                return False  # closing: the caller spools it
            delay = min(self.max_backoff_s, delay * 2)
        return False

    def _post(self, body: str) -> bool:
        req = urllib.request.Request(self.url, data=body.encode("utf-8"), headers=self._headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:  # noqa: S310 (scheme checked)
                ok = 200 <= int(resp.status) < 300
        except urllib.error.HTTPError as exc:
            log.warning("webhook: server answered HTTP %d", exc.code)
            ok = False
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            log.warning("webhook: delivery failed (%s)", exc.__class__.__name__)
            ok = False
        if not ok:
            self._failed += 1
        return ok

    def _spool(self, bodies: list[str]) -> None:
        with self._spool_lock:
            try:
                with self.spool_path.open("a", encoding="utf-8") as fh:
                    for b in bodies:
                        fh.write(b + "\n")
                    fh.flush()
                    os.fsync(fh.fileno())
            except OSError as exc:
                # Last resort: say so loudly. The alert is still in the JSONL sink if one is configured.
                log.error("webhook: cannot spool %d alert(s): %s", len(bodies), exc)
                raise StorageError(f"cannot write webhook spool {self.spool_path}: {exc}") from exc
        self._spooled += len(bodies)
        ids = [json.loads(b).get("alert_id", "?") for b in bodies]
        log.warning("webhook: %d alert(s) spooled for retry: %s", len(bodies), ", ".join(ids))

    def _rewrite_spool(self, remaining: list[str]) -> None:
        tmp = self.spool_path.with_suffix(self.spool_path.suffix + ".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            for b in remaining:
                fh.write(b + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.spool_path)
