"""Webhook sink: HTTP POST of each alert as JSON, with retries, backoff and a spool file.

``emit`` only queues; a worker thread delivers. A delivery is retried ``max_attempts`` times
with exponential backoff (``backoff_s`` doubling up to ``max_backoff_s``); an alert that still
cannot be delivered is appended to the spool (:class:`~overt.alerts.spool.EncryptedSpool`:
sealed with the data directory's key, 0600 in a 0700 folder) and retried from there every
``spool_retry_s`` seconds and at the next start. Alerts still queued when the sink closes are
spooled too. An alert is never dropped silently: it is delivered, or it sits in the spool
(until retention purges it). Bodies carry the probe crop and context frame only when
``include_images`` (``--include-crops``; the edge's own ingest needs them).

Several URLs (an edge node's list of centre addresses) are tried in order for each attempt: the
first that acknowledges the alert wins. With ``require_ack`` (the centre's ingest endpoint) a
2xx counts only when its JSON body names the stored ``alert_id``: a proxy's or captive portal's
200 page is not an acknowledgement, and the alert stays in the outbox. The centre's ingest is
idempotent on the alert's id, so a retry after a lost acknowledgement stores nothing twice.
With ``write_ahead`` (the edge node) each alert is sealed into the outbox before any attempt and
leaves it only when acknowledged, so even a ``kill -9`` between the two loses nothing.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from overt.alerts.sinks import alert_to_json
from overt.alerts.spool import EncryptedSpool, SpoolRecord
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
    """POSTs alerts to ``url`` (or the first of several that acknowledges); undeliverable ones wait
    in the encrypted ``spool`` and are retried."""

    def __init__(
        self,
        url: str | list[str],
        spool: EncryptedSpool,
        *,
        include_images: bool = False,
        timeout_s: float = 5.0,
        max_attempts: int = 4,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        spool_retry_s: float = 10.0,
        headers: dict[str, str] | None = None,
        require_ack: bool = False,
        write_ahead: bool = False,
    ) -> None:
        self.urls = [url] if isinstance(url, str) else list(url)
        if not self.urls:
            raise ConfigError("a webhook needs at least one URL")
        for u in self.urls:
            parts = urlsplit(u)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ConfigError(f"webhook URL must be http(s)://host/..., got {u!r}")
        if max_attempts < 1 or timeout_s <= 0 or backoff_s < 0 or spool_retry_s <= 0:
            raise ConfigError("invalid webhook retry settings")
        self.url = self.urls[0]
        self.require_ack = require_ack
        self.write_ahead = write_ahead
        self.spool = spool
        self.include_images = include_images
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.spool_retry_s = spool_retry_s
        self._headers = {"Content-Type": "application/json", **(headers or {})}
        self._queue: queue.Queue[SpoolRecord] = queue.Queue()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._spool_lock = threading.Lock()
        self._delivered = 0
        self._spooled = 0
        self._failed = 0
        self._thread = threading.Thread(target=self._work, name="overt-webhook", daemon=True)
        self._thread.start()

    # -- public ---------------------------------------------------------------------------------

    @property
    def spool_path(self) -> Path:
        return self.spool.path

    def emit(self, alert: Alert) -> None:
        body = json.dumps(alert_to_json(alert, include_images=self.include_images), separators=(",", ":"))
        record = SpoolRecord(alert.alert_id, alert.alerted_at, body)
        if self.write_ahead:  # the outbox first: a crash before the centre's answer loses nothing
            with self._spool_lock:
                self.spool.append([record])
            self._wake.set()
            return
        if self._stop.is_set():
            self._spool([record])
            return
        self._queue.put(record)

    def stats(self) -> WebhookStats:
        return WebhookStats(self._delivered, self._spooled, self._failed, self._queue.qsize() + self.spool_size())

    def spool_size(self) -> int:
        with self._spool_lock:
            return self.spool.count()

    def retry_spool(self) -> int:
        """Try every spooled alert once; keep those that still fail. Returns how many were delivered."""
        with self._spool_lock:
            if not self.spool.count():
                return 0
            records = self.spool.read()
            remaining: list[SpoolRecord] = []
            sent = 0
            for i, r in enumerate(records):
                if self._post(r.body):
                    sent += 1
                else:
                    remaining.extend(records[i:])  # the server is down again: keep the rest as it is
                    break
            self.spool.rewrite(remaining)
        self._delivered += sent
        if sent:
            log.info("webhook: delivered %d spooled alert(s), %d still spooled", sent, len(remaining))
        return sent

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop the worker; whatever is still queued goes to the spool."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=timeout_s)
        leftovers: list[SpoolRecord] = []
        while True:
            try:
                leftovers.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if leftovers:
            self._spool(leftovers)

    # -- worker ---------------------------------------------------------------------------------

    def _work(self) -> None:
        if self.write_ahead:
            self._work_outbox()
            return
        next_spool_try = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_spool_try:
                try:
                    self.retry_spool()
                except (OSError, StorageError):
                    log.exception("webhook: cannot read the spool file")
                next_spool_try = now + self.spool_retry_s
            try:
                record = self._queue.get(timeout=min(0.2, self.spool_retry_s))
            except queue.Empty:
                continue
            if not self._deliver_with_retries(record.body):
                self._spool([record])

    def _work_outbox(self) -> None:
        """Write-ahead mode: deliver from the outbox at once when an alert arrives, and every
        ``spool_retry_s`` while the centre is unreachable; each leaves it only once acknowledged."""
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.retry_spool()
            except (OSError, StorageError):
                log.exception("webhook: cannot read the outbox")
            if self.spool_size():
                self._stop.wait(self.spool_retry_s)  # unreachable: wait, new alerts queue behind
            else:
                self._wake.wait(self.spool_retry_s)

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
        """One attempt: each URL in order until one acknowledges."""
        return any(self._post_to(url, body) for url in self.urls)

    def _acknowledged(self, status: int, payload: bytes) -> bool:
        if not 200 <= status < 300:
            return False
        if not self.require_ack:
            return True
        try:
            answer = json.loads(payload)
        except ValueError:
            answer = None
        if isinstance(answer, dict) and answer.get("alert_id") is not None:
            return True
        log.warning("webhook: HTTP %d without an acknowledgement; the alert stays in the outbox", status)
        return False

    def _post_to(self, url: str, body: str) -> bool:
        req = urllib.request.Request(url, data=body.encode("utf-8"), headers=self._headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:  # noqa: S310 (scheme checked)
                ok = self._acknowledged(int(resp.status), resp.read(64 * 1024))
        except urllib.error.HTTPError as exc:
            log.warning("webhook: server answered HTTP %d", exc.code)
            ok = False
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            log.warning("webhook: delivery failed (%s)", exc.__class__.__name__)
            ok = False
        if not ok:
            self._failed += 1
        return ok

    def _spool(self, records: list[SpoolRecord]) -> None:
        with self._spool_lock:
            try:
                self.spool.append(records)
            except StorageError as exc:
                # Last resort: say so loudly (the alert is in the store or the JSONL if configured).
                log.error("webhook: cannot spool %d alert(s): %s", len(records), exc)
                raise
        self._spooled += len(records)
        log.warning("webhook: %d alert(s) spooled for retry: %s", len(records), ", ".join(r.alert_id for r in records))
