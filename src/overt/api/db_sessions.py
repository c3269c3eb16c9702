"""Sessions and their CSRF tokens in the database: any number of API processes.

The same contract as :class:`~overt.api.sessions.SessionStore` (random 256-bit cookie id of
which only the SHA-256 is kept, a CSRF synchronizer token per session, rotation at login, idle
and absolute timeouts, anonymous sessions capped), kept in the shared database instead of one
process's memory, so a session made on one process works on every other, and a logout or a
disabled account ends it everywhere at once. Login throttling follows the sessions into the
database (:mod:`overt.users.db_throttle`): N processes share one guessing budget.

Times are wall-clock epoch seconds (``time.time``): every API host must keep NTP time.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import secrets
import time
from collections.abc import Callable

from overt.api.sessions import Session
from overt.domain.users import User
from overt.store.repositories import StoredSession, UserRepository, WebSessionRepository
from overt.store.store import Store

TOUCH_EVERY_S = 5.0
"""``last_seen`` is written at most this often per session (not on every request)."""


def _h(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class DbSessionStore:
    def __init__(
        self,
        store: Store,
        *,
        idle_timeout_s: float = 30 * 60,
        absolute_timeout_s: float = 12 * 3600,
        max_anonymous: int = 10_000,
        max_anonymous_per_address: int = 32,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.idle_timeout_s = idle_timeout_s
        self.absolute_timeout_s = absolute_timeout_s
        self.max_anonymous = max_anonymous
        self.max_anonymous_per_address = max_anonymous_per_address
        self._clock = clock
        self._created = itertools.count()

    def new(self, user: User | None = None, *, address: str = "?") -> tuple[str, Session]:
        u = user
        sid = secrets.token_urlsafe(32)
        now = self._clock()
        stored = StoredSession(_h(sid), secrets.token_urlsafe(32), None if u is None else u.name, now, now, {})
        with self.store.db.session() as s:
            repo = WebSessionRepository(s)
            if next(self._created) % 100 == 0:  # housekeeping now and then, not on every login form
                repo.remove_expired(now - self.idle_timeout_s, now - self.absolute_timeout_s)
                extra = repo.count_anonymous() - self.max_anonymous
                if extra >= 0:  # a flood of anonymous sessions: drop the least recently seen half
                    repo.remove_oldest_anonymous(max(extra, self.max_anonymous // 2))
            akey = None
            if u is None:  # one address's flood evicts its own oldest anonymous sessions, nobody else's
                akey = self.address_key(address)
                extra = repo.count_anonymous_at(akey) - self.max_anonymous_per_address + 1
                if extra > 0:
                    repo.remove_oldest_anonymous_at(akey, extra)
            repo.add(stored, address_key=akey)
        return sid, Session(csrf=stored.csrf, created_s=now, last_seen_s=now, user=u)

    def address_key(self, address: str) -> str:
        """The client address (as the app resolved it behind its trusted proxies) as a keyed digest:
        every process derives the same key from the KEK, and a copy of the table does not list who
        opened the login page (a plain hash of an IPv4 address is reversed by trying them all)."""
        key = hmac.new(self.store.kek, b"overt/anonymous-session-address/v1", hashlib.sha256).digest()
        return hmac.new(key, address.encode("utf-8"), hashlib.sha256).hexdigest()

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        now = self._clock()
        key = _h(sid)
        with self.store.db.session() as s:
            repo = WebSessionRepository(s)
            got = repo.get(key)
            if got is None:
                return None
            if now - got.last_seen_s > self.idle_timeout_s or now - got.created_s > self.absolute_timeout_s:
                repo.remove(key)
                return None
            if now - got.last_seen_s > TOUCH_EVERY_S:
                repo.touch(key, now)
            user = None
            if got.user_name is not None:
                found = UserRepository(s).get_with_hash(got.user_name)
                if found is None:
                    repo.remove(key)
                    return None
                user = found[0]
        return Session(csrf=got.csrf, created_s=got.created_s, last_seen_s=now, user=user, data=dict(got.data))

    def rotate(self, old_sid: str | None, user: User) -> tuple[str, Session]:
        """Log in: drop the old session (whatever it was) and issue a fresh id and CSRF token."""
        self.drop(old_sid)
        return self.new(user)

    def drop(self, sid: str | None) -> None:
        if sid:
            with self.store.db.session() as s:
                WebSessionRepository(s).remove(_h(sid))

    def count(self) -> tuple[int, int]:
        """(authenticated, anonymous) sessions held, across every process."""
        with self.store.db.session() as s:
            repo = WebSessionRepository(s)
            anonymous = repo.count_anonymous()
            return repo.count_all() - anonymous, anonymous

    def drop_user(self, user_name: str) -> int:
        with self.store.db.session() as s:
            return WebSessionRepository(s).remove_user(user_name)
