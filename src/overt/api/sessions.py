"""Server-side sessions (cookie holds only a random id) and the login rate limiter.

Sessions live in memory in the server process: a restart logs everyone out, which is the safe
failure. The cookie value is a 256-bit random id; the server keeps only its SHA-256, so a
memory dump of the table cannot be replayed as cookies. Every session (anonymous ones too)
carries a CSRF synchronizer token; logging in replaces the session (new id, new CSRF token),
so an id planted before login is worthless after it (no session fixation).
"""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from overt.domain.users import User


def _h(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


@dataclass
class Session:
    csrf: str
    created_s: float
    last_seen_s: float
    user: User | None = None
    data: dict[str, str] = field(default_factory=dict)


class SessionStore:
    def __init__(
        self,
        *,
        idle_timeout_s: float = 30 * 60,
        absolute_timeout_s: float = 12 * 3600,
        max_sessions: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle_timeout_s = idle_timeout_s
        self.absolute_timeout_s = absolute_timeout_s
        self.max_sessions = max_sessions
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}

    def new(self, user: User | None = None) -> tuple[str, Session]:
        sid = secrets.token_urlsafe(32)
        now = self._clock()
        s = Session(csrf=secrets.token_urlsafe(32), created_s=now, last_seen_s=now, user=user)
        with self._lock:
            if len(self._sessions) >= self.max_sessions:
                self._evict(now)
            self._sessions[_h(sid)] = s
        return sid, s

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        now = self._clock()
        with self._lock:
            s = self._sessions.get(_h(sid))
            if s is None:
                return None
            if now - s.last_seen_s > self.idle_timeout_s or now - s.created_s > self.absolute_timeout_s:
                del self._sessions[_h(sid)]
                return None
            s.last_seen_s = now
            return s

    def rotate(self, old_sid: str | None, user: User) -> tuple[str, Session]:
        """Log in: drop the old session (whatever it was) and issue a fresh id and CSRF token."""
        self.drop(old_sid)
        return self.new(user)

    def drop(self, sid: str | None) -> None:
        if sid:
            with self._lock:
                self._sessions.pop(_h(sid), None)

    def drop_user(self, user_name: str) -> int:
        with self._lock:
            gone = [k for k, s in self._sessions.items() if s.user is not None and s.user.name == user_name]
            for k in gone:
                del self._sessions[k]
        return len(gone)

    def _evict(self, now: float) -> None:
        expired = [
            k
            for k, s in self._sessions.items()
            if now - s.last_seen_s > self.idle_timeout_s or now - s.created_s > self.absolute_timeout_s
        ]
        for k in expired:
            del self._sessions[k]
        if len(self._sessions) >= self.max_sessions:  # still full: drop the least recently seen anonymous ones
            anon = sorted((s.last_seen_s, k) for k, s in self._sessions.items() if s.user is None)
            for _, k in anon[: max(1, len(anon) // 2)]:
                del self._sessions[k]


class LoginLimiter:
    """Per (user name, client address): ``free_failures`` failures, then exponential backoff.

    From the ``free_failures``-th consecutive failure on (the ``k``-th such), logins for the pair are
    refused for ``base_s * 2**(k-1)`` seconds (capped at ``max_s``). A success clears the pair.
    """

    def __init__(
        self,
        *,
        free_failures: int = 5,
        base_s: float = 30.0,
        max_s: float = 15 * 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free_failures = free_failures
        self.base_s = base_s
        self.max_s = max_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, str], tuple[int, float]] = {}

    def retry_after_s(self, user: str, ip: str) -> int:
        """Seconds until this pair may try again (0: now)."""
        with self._lock:
            _n, until = self._failures.get((user, ip), (0, 0.0))
        return max(0, math.ceil(until - self._clock()))

    def failed(self, user: str, ip: str) -> None:
        with self._lock:
            n, _ = self._failures.get((user, ip), (0, 0.0))
            n += 1
            over = n - self.free_failures + 1
            until = self._clock() + min(self.max_s, self.base_s * 2 ** (over - 1)) if over > 0 else 0.0
            self._failures[(user, ip)] = (n, until)
            if len(self._failures) > 100_000:  # bound memory under a spraying attack
                self._failures.clear()

    def succeeded(self, user: str, ip: str) -> None:
        with self._lock:
            self._failures.pop((user, ip), None)
