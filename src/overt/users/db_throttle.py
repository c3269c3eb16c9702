"""Login throttling in the shared database: N API processes, one budget per account and address.

The rules are :mod:`overt.users.throttle`'s, unchanged (per-address failure window; per-account
doubling delay capped at ``max_s``; an address the account already logged in from keeps its own
counter); only the state moves from one process's memory into the database, so a guesser spreading
attempts over N processes (or hosts) behind a load balancer gets the budget of one, not N.

Times are wall-clock epoch seconds (``time.time``): every API host must keep NTP time.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable

from overt.store.repositories.login_throttle import ANY_ADDRESS, LoginThrottleRepository
from overt.store.store import Store
from overt.users.throttle import address_wait_s, backoff_s

PRUNE_EVERY = 100
"""Housekeeping runs on one failure in this many (per process)."""
_MAX_IDLE_COUNTERS = 100_000  # above this, counters imposing no delay now are dropped (as memory is cleared)


class DbLoginThrottle:
    def __init__(
        self,
        store: Store,
        *,
        free_failures: int = 5,
        base_s: float = 2.0,
        max_s: float = 60.0,
        address_max_failures: int = 30,
        address_window_s: float = 15 * 60,
        known_for_s: float = 30 * 24 * 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.free_failures = free_failures
        self.base_s = base_s
        self.max_s = max_s
        self.address_max_failures = address_max_failures
        self.address_window_s = address_window_s
        self.known_for_s = known_for_s
        self._clock = clock
        self._failures = itertools.count(1)

    @staticmethod
    def _keys(account: str, address: str) -> tuple[str, str]:
        return account[:64], address[:64]  # the column widths (names are 64 at most; IPv6 is 45)

    def _counter(self, repo: LoginThrottleRepository, account: str, address: str, now: float) -> str:
        """Which counter applies: the account's own, or its counter at an address it is known at."""
        seen = repo.known_since(account, address)
        return address if seen is not None and now - seen <= self.known_for_s else ANY_ADDRESS

    def retry_after_s(self, account: str, address: str) -> int:
        """Seconds until this account may be tried from this address (0: now), across all processes."""
        account, address = self._keys(account, address)
        now = self._clock()
        with self.store.db.session() as s:
            repo = LoginThrottleRepository(s)
            win = repo.address_window(address, now - self.address_window_s)
            wait = address_wait_s(
                win.failures, win.oldest_s, now, max_failures=self.address_max_failures, window_s=self.address_window_s
            )
            b = repo.backoff(account, self._counter(repo, account, address, now))
            if b is not None:
                wait = max(wait, b.until_s - now)
        return max(0, math.ceil(wait))

    def failed(self, account: str, address: str) -> None:
        account, address = self._keys(account, address)
        now = self._clock()
        with self.store.db.session() as s:
            repo = LoginThrottleRepository(s)
            if next(self._failures) % PRUNE_EVERY == 0:
                repo.prune(
                    failures_before_s=now - self.address_window_s,
                    known_before_s=now - self.known_for_s,
                    idle_backoffs_over=_MAX_IDLE_COUNTERS,
                    now_s=now,
                )
            repo.add_address_failure(address, now)
            counter = self._counter(repo, account, address, now)
            failures = repo.count_failure(account, counter)  # atomic across processes
            delay = backoff_s(failures, free_failures=self.free_failures, base_s=self.base_s, max_s=self.max_s)
            repo.set_until(account, counter, now + delay if delay > 0 else 0.0)

    def succeeded(self, account: str, address: str) -> None:
        account, address = self._keys(account, address)
        now = self._clock()
        with self.store.db.session() as s:
            repo = LoginThrottleRepository(s)
            repo.clear(account, address)
            repo.remember(account, address, now)
