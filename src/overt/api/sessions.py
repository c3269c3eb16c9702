"""Server-side sessions (cookie holds only a random id); login throttling is :mod:`overt.users.throttle`.

Sessions live in memory in the server process: a restart logs everyone out, which is the safe
failure. The cookie value is a 256-bit random id; the server keeps only its SHA-256, so a
memory dump of the table cannot be replayed as cookies. Every session (anonymous ones too)
carries a CSRF synchronizer token; logging in replaces the session (new id, new CSRF token),
so an id planted before login is worthless after it (no session fixation).
"""

from __future__ import annotations

import hashlib
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
    """Authenticated and anonymous (pre-login) sessions, capped separately.

    Anonymous sessions (``GET /api/v1/auth/csrf``, the login page) are capped per source address
    (``max_anonymous_per_address``) and in all (``max_anonymous``); a flood evicts the flooder's own
    oldest anonymous sessions first, then the oldest anonymous ones, and never an authenticated one.
    """

    def __init__(
        self,
        *,
        idle_timeout_s: float = 30 * 60,
        absolute_timeout_s: float = 12 * 3600,
        max_sessions: int = 10_000,
        max_anonymous: int = 5_000,
        max_anonymous_per_address: int = 32,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle_timeout_s = idle_timeout_s
        self.absolute_timeout_s = absolute_timeout_s
        self.max_sessions = max_sessions
        self.max_anonymous = max_anonymous
        self.max_anonymous_per_address = max_anonymous_per_address
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._anon: dict[str, tuple[Session, str]] = {}  # insertion order = age

    def new(self, user: User | None = None, *, address: str = "?") -> tuple[str, Session]:
        sid = secrets.token_urlsafe(32)
        now = self._clock()
        s = Session(csrf=secrets.token_urlsafe(32), created_s=now, last_seen_s=now, user=user)
        with self._lock:
            if user is None:
                self._make_room_for_anonymous(address, now)
                self._anon[_h(sid)] = (s, address)
            else:
                if len(self._sessions) >= self.max_sessions:
                    self._evict(now)
                self._sessions[_h(sid)] = s
        return sid, s

    def _expired(self, s: Session, now: float) -> bool:
        return now - s.last_seen_s > self.idle_timeout_s or now - s.created_s > self.absolute_timeout_s

    def _make_room_for_anonymous(self, address: str, now: float) -> None:
        mine = [k for k, (_, a) in self._anon.items() if a == address]
        for k in mine[: max(0, len(mine) - self.max_anonymous_per_address + 1)]:
            del self._anon[k]
        if len(self._anon) >= self.max_anonymous:
            for k in [k for k, (s, _) in self._anon.items() if self._expired(s, now)]:
                del self._anon[k]
        while len(self._anon) >= self.max_anonymous:
            del self._anon[next(iter(self._anon))]

    def count(self) -> tuple[int, int]:
        """(authenticated, anonymous) sessions held."""
        with self._lock:
            return len(self._sessions), len(self._anon)

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        now = self._clock()
        key = _h(sid)
        with self._lock:
            s = self._sessions.get(key)
            if s is None:
                anon = self._anon.get(key)
                s = None if anon is None else anon[0]
            if s is None:
                return None
            if self._expired(s, now):
                self._sessions.pop(key, None)
                self._anon.pop(key, None)
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
                self._anon.pop(_h(sid), None)

    def drop_user(self, user_name: str) -> int:
        with self._lock:
            gone = [k for k, s in self._sessions.items() if s.user is not None and s.user.name == user_name]
            for k in gone:
                del self._sessions[k]
        return len(gone)

    def _evict(self, now: float) -> None:
        for k in [k for k, s in self._sessions.items() if self._expired(s, now)]:
            del self._sessions[k]
        if len(self._sessions) >= self.max_sessions:  # still full: the least recently seen goes
            oldest = min(self._sessions, key=lambda k: self._sessions[k].last_seen_s)
            del self._sessions[oldest]
