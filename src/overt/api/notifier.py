"""Push of new alerts to WebSocket clients: in-process publish plus a polling fallback.

Alerts raised in this process (``overt run``, or the edge ingest endpoint) are published at
once with :meth:`AlertNotifier.publish`, from any thread: a sync route handler or a pipeline
thread hands the message to the event loop (``call_soon_threadsafe``); queues are only ever
touched on the loop. Alerts written to the store by another
process are found by polling the highest alert id every ``poll_s`` seconds. Each alert id is
pushed once. Subscribers are bounded queues: a slow client loses old messages (it reloads
the queue), never blocks the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import func, select

from overt.store.models import AlertRow
from overt.store.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")


class AlertNotifier:
    def __init__(self, store: Store, *, poll_s: float = 0.25, queue_size: int = 100) -> None:
        self.store = store
        self.poll_s = poll_s
        self.queue_size = queue_size
        self._subscribers: set[asyncio.Queue[tuple[str, int]]] = set()
        self._seen_max = 0
        self._published: set[int] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    def _max_id(self) -> int:
        with self.store.db.session() as s:
            return int(s.scalar(select(func.max(AlertRow.id))) or 0)

    def _ids_after(self, after: int) -> list[int]:
        with self.store.db.session() as s:
            return list(s.scalars(select(AlertRow.id).where(AlertRow.id > after).order_by(AlertRow.id)))

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._seen_max = await asyncio.to_thread(self._max_id)
        self._task = asyncio.create_task(self._poll(), name="overt-alert-poll")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def subscribe(self, *, maxsize: int | None = None) -> asyncio.Queue[tuple[str, int]]:
        """A queue of ``(kind, alert id)``; ``maxsize=0``: unbounded (the per-process fan-out, which
        must see every id; it bounds each socket's queue itself)."""
        q: asyncio.Queue[tuple[str, int]] = asyncio.Queue(maxsize=self.queue_size if maxsize is None else maxsize)
        self._subscribers.add(q)
        return q

    def unsubscribe(self, q: asyncio.Queue[tuple[str, int]]) -> None:
        self._subscribers.discard(q)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, alert_id: int) -> None:
        """Push a new alert to every subscriber, once. Safe from any thread."""
        self._on_loop(self._publish_now, alert_id)

    def publish_update(self, alert_id: int) -> None:
        """An alert changed (adjudicated): every console refreshes its card. Safe from any thread."""
        self._on_loop(self._send, ("update", alert_id))

    def _on_loop(self, fn: Callable[[T], None], arg: T) -> None:
        loop = self._loop
        if loop is None:  # not started: no subscriber can be waiting on a loop
            fn(arg)
            return
        if loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            fn(arg)
        else:
            loop.call_soon_threadsafe(fn, arg)

    def _publish_now(self, alert_id: int) -> None:
        if alert_id in self._published:
            return
        self._published.add(alert_id)
        if len(self._published) > 10_000:
            floor = self._seen_max
            self._published = {i for i in self._published if i > floor}
        self._send(("alert", alert_id))

    def _send(self, msg: tuple[str, int]) -> None:
        for q in list(self._subscribers):
            if q.full():  # a bounded subscriber that fell behind loses its oldest message
                with contextlib.suppress(asyncio.QueueEmpty):
                    q.get_nowait()
            q.put_nowait(msg)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                ids = await asyncio.to_thread(self._ids_after, self._seen_max)
            except Exception:  # a busy or briefly unavailable database: try again next tick
                log.warning("alert poll failed", exc_info=True)
                continue
            for i in ids:
                self._publish_now(i)
                self._seen_max = max(self._seen_max, i)
