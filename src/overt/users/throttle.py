"""Login throttling that slows guessing without letting anyone lock the owner out.

Two independent limits. :class:`LoginThrottle` keeps them in one process's memory (a restart forgets
them, which only helps the owner): the single box on SQLite. :class:`overt.users.db_throttle.DbLoginThrottle`
keeps the same state in the database, so N API processes share one budget (the default wherever
sessions are shared, i.e. on PostgreSQL); both apply the rules below (:class:`ThrottleRules`).

* **Per address**: at most ``address_max_failures`` failed logins per ``address_window_s`` from one
  source address, whatever the account; then that address waits. Spraying many accounts from one
  place is slow; other addresses are not affected.
* **Per account, progressive delay**: after ``free_failures`` consecutive failures the account's
  next attempt waits ``base_s * 2**k`` (at most ``max_s``: a delay, never a lock-out of minutes).
  An address the account has logged in from before ("known", kept ``known_for_s``) has its own
  counter instead, so guesses from elsewhere never slow the owner down at their usual place.

The source address is the peer, or the ``X-Forwarded-For`` entry added by a *trusted* proxy
(see :func:`overt.api.client.client_address`): behind a TLS proxy everyone keeps their own address.
The CLI (a local user with the data directory) is not throttled, so an admin can always get in.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

_MAX_KEYS = 100_000  # bound memory under a spraying attack


@dataclass(kw_only=True, eq=False)
class ThrottleRules:
    """The limits, and how long each makes a caller wait (shared by the memory and database backends)."""

    free_failures: int = 5
    base_s: float = 2.0
    max_s: float = 60.0
    address_max_failures: int = 30
    address_window_s: float = 15 * 60
    known_for_s: float = 30 * 24 * 3600

    def backoff_s(self, failures: int) -> float:
        """The delay after ``failures`` consecutive failures: none for the free ones, then doubling, capped."""
        over = failures - self.free_failures + 1
        return min(self.max_s, self.base_s * 2 ** (over - 1)) if over > 0 else 0.0

    def address_wait_s(self, failures: int, oldest_s: float | None, now_s: float) -> float:
        """The wait of an address with ``failures`` failed logins in the window, the oldest at ``oldest_s``."""
        if oldest_s is None or failures < self.address_max_failures:
            return 0.0
        return oldest_s + self.address_window_s - now_s

    def still_known(self, seen_s: float | None, now_s: float) -> bool:
        return seen_s is not None and now_s - seen_s <= self.known_for_s


class Throttle(Protocol):
    """What the login route needs (in memory for one process, or in the database for N)."""

    def retry_after_s(self, account: str, address: str) -> int: ...

    def failed(self, account: str, address: str) -> None: ...

    def succeeded(self, account: str, address: str) -> None: ...


@dataclass
class _Backoff:
    failures: int = 0
    until_s: float = 0.0


@dataclass(kw_only=True, eq=False)
class LoginThrottle(ThrottleRules):
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._accounts: dict[str, _Backoff] = {}
        self._pairs: dict[tuple[str, str], _Backoff] = {}
        self._addresses: dict[str, deque[float]] = {}
        self._known: dict[tuple[str, str], float] = {}

    def _is_known(self, account: str, address: str, now: float) -> bool:
        return self.still_known(self._known.get((account, address)), now)

    def _address_wait(self, address: str, now: float) -> float:
        q = self._addresses.get(address)
        if not q:
            return 0.0
        while q and now - q[0] > self.address_window_s:
            q.popleft()
        return self.address_wait_s(len(q), q[0] if q else None, now)

    def retry_after_s(self, account: str, address: str) -> int:
        """Seconds until this account may be tried from this address (0: now)."""
        now = self.clock()
        with self._lock:
            wait = self._address_wait(address, now)
            b = (
                self._pairs.get((account, address))
                if self._is_known(account, address, now)
                else self._accounts.get(account)
            )
            if b is not None:
                wait = max(wait, b.until_s - now)
        return max(0, math.ceil(wait))

    def failed(self, account: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._addresses) > _MAX_KEYS or len(self._accounts) + len(self._pairs) > _MAX_KEYS:
                self._addresses.clear()
                self._accounts.clear()
                self._pairs.clear()
            self._addresses.setdefault(address, deque()).append(now)
            if self._is_known(account, address, now):
                b = self._pairs.setdefault((account, address), _Backoff())
            else:
                b = self._accounts.setdefault(account, _Backoff())
            b.failures += 1
            delay = self.backoff_s(b.failures)
            b.until_s = now + delay if delay > 0 else 0.0

    def succeeded(self, account: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            self._accounts.pop(account, None)
            self._pairs.pop((account, address), None)
            if len(self._known) > _MAX_KEYS:
                self._known.clear()
            self._known[(account, address)] = now
