"""One alert fan-out per API process: each alert is loaded and serialised once, whatever the consoles.

The notifier (in-process publish and the store poll; PostgreSQL ``LISTEN/NOTIFY`` across
processes) feeds ONE task. It loads each new or updated alert once (one database read per alert
per process), renders its JSON frame once, and hands the same text to every subscribed socket's
bounded queue; each socket's own task only sends what is in its queue. So a slow console slows
nobody else, and since one task fills every queue, each console gets its frames in order.

Every ``heartbeat_s`` the same task checks each distinct credential (session cookie or bearer
token) once, however many sockets use it, and queues the heartbeat frame to those that pass. A
credential that no longer passes (logout, expiry, account disabled, token revoked, role changed)
closes its sockets with :data:`SESSION_ENDED` and nothing more is queued to them: a revoked
session stops receiving within one heartbeat. A socket whose queue is full is closed with
:data:`LAGGING` (nothing is dropped silently): the console reconnects and fetches what it missed
with ``?after_id``. A socket that has just connected was authenticated by the route guard; it is
checked with the others at the next beat.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from overt.api.notifier import AlertNotifier
from overt.api.security import SESSION_COOKIE
from overt.errors import StorageError

log = logging.getLogger(__name__)

SESSION_ENDED = 4401
"""Close code: the session behind the stream ended (log in again)."""
LAGGING = 1013
"""Close code ("try again later"): this socket fell behind; reconnect and fetch by ``?after_id``."""
UNAVAILABLE = 1011
"""Close code: the database stayed unreachable for several heartbeats."""
GOING_AWAY = 1001
QUEUE_FRAMES = 256
"""Frames a socket may have waiting before it is closed with :data:`LAGGING`."""
BATCH = 200
"""Alerts loaded in one trip to a worker thread."""
UNKNOWN_BEATS = 5
"""Heartbeats in a row whose check could not reach the database before a socket is closed."""
RETRY_S = (0.25, 0.5, 1.0, 2.0, 4.0)
"""A database restart is waited out this long before the waiting consoles are told to catch up."""

Render = Callable[[Sequence[tuple[str, int]]], list[str]]
"""``[(kind, alert id)]`` -> the frames to send, in order (an alert deleted meanwhile: none)."""


@dataclass(frozen=True, slots=True)
class Close:
    code: int
    reason: str


def credential_key(conn: HTTPConnection) -> str:
    """What the caller authenticates with (bearer token, else session cookie), hashed: sockets
    sharing it share one check per heartbeat. Mirrors :meth:`Authenticator.authenticate`'s order."""
    scheme, _, secret = conn.headers.get("authorization", "").strip().partition(" ")
    raw = f"bearer:{secret.strip()}" if scheme.lower() == "bearer" else f"cookie:{conn.cookies.get(SESSION_COOKIE, '')}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class Subscriber:
    """One socket: its credential key and a queue of ready frames, bounded by :meth:`offer`."""

    def __init__(self, key: str, conn: HTTPConnection, max_frames: int) -> None:
        self.key = key
        self.conn = conn
        self.max_frames = max_frames
        self.queue: asyncio.Queue[str | Close] = asyncio.Queue()
        self.closing = False
        self.unknown_beats = 0

    def offer(self, frame: str) -> None:
        if self.closing:
            return
        if self.queue.qsize() >= self.max_frames:
            self.end(LAGGING, "this console fell behind the alert feed: reconnect and fetch missed alerts")
            return
        self.queue.put_nowait(frame)

    def end(self, code: int, reason: str) -> None:
        """Nothing more reaches this socket: what waits is discarded, then the close."""
        if self.closing:
            return
        self.closing = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(Close(code, reason))


class AlertFanout:
    def __init__(
        self,
        notifier: AlertNotifier,
        *,
        render: Render,
        allowed: Callable[[HTTPConnection], bool],
        heartbeat: Callable[[], str],
        heartbeat_s: float,
        queue_frames: int = QUEUE_FRAMES,
    ) -> None:
        self.notifier = notifier
        self.render = render
        self.allowed = allowed
        self.heartbeat = heartbeat
        self.heartbeat_s = heartbeat_s
        self.queue_frames = queue_frames
        self.loads = 0
        """Alerts rendered (for tests: once per alert, not once per console)."""
        self.checks = 0
        """Credential checks made (once per credential per heartbeat)."""
        self._subs: set[Subscriber] = set()
        self._inbox: asyncio.Queue[tuple[str, int]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._beat: str | None = None

    def start(self) -> None:
        """On the event loop; idempotent (the first socket starts it if the app's lifespan did not)."""
        if self._task is None or self._task.done():
            self._inbox = self.notifier.subscribe(maxsize=0)
            self._task = asyncio.get_running_loop().create_task(self._run(), name="overt-alert-fanout")

    async def stop(self) -> None:
        for sub in list(self._subs):
            sub.end(GOING_AWAY, "server shutting down")
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._inbox is not None:
            self.notifier.unsubscribe(self._inbox)
            self._inbox = None

    @property
    def subscribers(self) -> int:
        return len(self._subs)

    async def subscribe(self, conn: HTTPConnection) -> Subscriber:
        """A socket joins: it gets the latest heartbeat at once, then every frame from now on."""
        self.start()
        sub = Subscriber(credential_key(conn), conn, self.queue_frames)
        beat = self._beat
        if beat is None:
            with contextlib.suppress(StorageError):
                beat = await asyncio.to_thread(self.heartbeat)
        self._subs.add(sub)
        if beat is not None:
            sub.offer(beat)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self._subs.discard(sub)

    # -- the one task ---------------------------------------------------------------------------------

    async def _run(self) -> None:
        assert self._inbox is not None
        inbox = self._inbox
        loop = asyncio.get_running_loop()
        next_beat = loop.time() + self.heartbeat_s
        while True:
            batch: list[tuple[str, int]] = []
            wait_s = next_beat - loop.time()
            if wait_s > 0 and inbox.empty():
                with contextlib.suppress(TimeoutError):
                    batch.append(await asyncio.wait_for(inbox.get(), timeout=wait_s))
            while len(batch) < BATCH and not inbox.empty():
                batch.append(inbox.get_nowait())
            if batch and self._subs:
                await self._push(batch)
            if loop.time() >= next_beat:
                try:
                    await self._check_and_beat()
                except Exception:  # never let one bad beat end every console's feed
                    log.exception("alert heartbeat failed")
                next_beat = loop.time() + self.heartbeat_s

    async def _push(self, batch: list[tuple[str, int]]) -> None:
        frames: list[str] | None = None
        for wait_s in RETRY_S:
            try:
                frames = await asyncio.to_thread(self.render, batch)
                break
            except StorageError:  # a database restart: wait it out a little
                await asyncio.sleep(wait_s)
        if frames is None:  # still down: every console must catch up once it is back
            log.warning("alerts could not be loaded for push; consoles told to catch up")
            for sub in list(self._subs):
                sub.end(LAGGING, "alerts could not be loaded: reconnect and fetch missed alerts")
            return
        self.loads += len(batch)
        for frame in frames:
            for sub in list(self._subs):
                sub.offer(frame)

    async def _check_and_beat(self) -> None:
        if not self._subs:
            self._beat = None
            return
        reps: dict[str, HTTPConnection] = {}
        for sub in self._subs:
            if not sub.closing:
                reps.setdefault(sub.key, sub.conn)
        verdicts, beat = await asyncio.to_thread(self._check_all, reps)
        if beat is not None:
            self._beat = beat
        for sub in list(self._subs):
            if sub.key not in verdicts:
                continue  # joined during the check: its guard has just passed; checked next beat
            verdict = verdicts[sub.key]
            if verdict is False:
                sub.end(SESSION_ENDED, "session ended or credentials revoked")
            elif verdict is None:  # the database could not say: no heartbeat (the console notices)
                sub.unknown_beats += 1
                if sub.unknown_beats >= UNKNOWN_BEATS:
                    sub.end(UNAVAILABLE, "the database is unreachable")
            else:
                sub.unknown_beats = 0
                if beat is not None:  # the camera health could not be read: no heartbeat this time
                    sub.offer(beat)

    def _check_all(self, reps: dict[str, HTTPConnection]) -> tuple[dict[str, bool | None], str | None]:
        verdicts: dict[str, bool | None] = {}
        for key, conn in reps.items():
            self.checks += 1
            try:
                verdicts[key] = self.allowed(conn)
            except StorageError:
                verdicts[key] = None
        try:
            return verdicts, self.heartbeat()
        except StorageError:
            return verdicts, None
