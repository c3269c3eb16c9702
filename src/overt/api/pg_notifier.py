"""Alert push across API processes through PostgreSQL ``LISTEN``/``NOTIFY`` (no other broker).

A trigger on ``alerts`` (migration ``0003_scale_centre``) sends ``alert:<id>`` on the channel
``overt_alerts`` when the inserting transaction commits, whichever process wrote it (an
``overt serve`` ingest, an ``overt worker`` pipeline). Each API process listens on its own
connection and pushes the id to its WebSocket clients at once. Adjudications are announced by
the process that made them (``update:<id>:<origin>``; a process ignores its own, which it has
already pushed).

The listener reconnects with backoff when PostgreSQL restarts; the store poll of
:class:`~overt.api.notifier.AlertNotifier` keeps running underneath, so an alert committed while
the listener was away is still pushed (each id once). SQLite (one box) uses the poll alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from overt.api.notifier import AlertNotifier
from overt.store.store import Store

log = logging.getLogger(__name__)

CHANNEL = "overt_alerts"


def libpq_conninfo(sqlalchemy_url: str) -> str:
    """``postgresql+psycopg://...`` as a libpq URI (``postgresql://...``)."""
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


class PgAlertNotifier(AlertNotifier):
    """:class:`AlertNotifier` plus a ``LISTEN`` connection: alerts of every process, at once."""

    def __init__(
        self, store: Store, *, poll_s: float = 1.0, queue_size: int = 100, reconnect_max_s: float = 5.0
    ) -> None:
        super().__init__(store, poll_s=poll_s, queue_size=queue_size)
        self.conninfo = libpq_conninfo(store.db.url)
        self.reconnect_max_s = reconnect_max_s
        self.origin = uuid.uuid4().hex[:12]
        self.connected = asyncio.Event()
        self.reconnects = 0
        self._listen_task: asyncio.Task[None] | None = None
        self._notify_conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._announcer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="overt-notify")

    async def start(self) -> None:
        await super().start()
        self._listen_task = asyncio.create_task(self._listen(), name="overt-alert-listen")

    async def stop(self) -> None:
        if self._listen_task is not None:
            self._listen_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listen_task
            self._listen_task = None
        await asyncio.to_thread(self._announcer.shutdown, wait=True)
        await asyncio.to_thread(self._close_notify_conn)
        await super().stop()

    def publish_update(self, alert_id: int) -> None:
        super().publish_update(alert_id)
        self._announcer.submit(self._announce, f"update:{alert_id}:{self.origin}")  # from any thread

    def _announce(self, payload: str) -> None:
        """``NOTIFY`` from a worker thread on a kept connection (reopened once if it died)."""
        for attempt in (1, 2):
            try:
                if self._notify_conn is None or self._notify_conn.closed:
                    self._notify_conn = psycopg.connect(self.conninfo, autocommit=True)
                self._notify_conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
                return
            except psycopg.Error:
                self._close_notify_conn()
                if attempt == 2:
                    log.warning("alert update could not be announced to other processes")

    def _close_notify_conn(self) -> None:
        conn, self._notify_conn = self._notify_conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def _on_payload(self, payload: str) -> None:
        kind, _, rest = payload.partition(":")
        ident, _, origin = rest.partition(":")
        if not ident.isdigit():
            return
        if kind == "alert":
            self.publish(int(ident))
        elif kind == "update" and origin != self.origin:
            super().publish_update(int(ident))

    async def _listen(self) -> None:
        delay = 0.2
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as conn:
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
                    self.connected.set()
                    delay = 0.2
                    log.info("listening for alerts of other processes")
                    async for note in conn.notifies():
                        self._on_payload(note.payload)
            except asyncio.CancelledError:
                raise
            except Exception:  # PostgreSQL restarted or unreachable: the poll covers the gap
                log.warning("alert listener lost its connection; reconnecting", exc_info=False)
            self.connected.clear()
            self.reconnects += 1
            await asyncio.sleep(delay)
            delay = min(self.reconnect_max_s, delay * 2)
