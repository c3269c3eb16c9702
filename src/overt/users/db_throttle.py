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
from dataclasses import dataclass

from overt.store.repositories.login_throttle import ANY_ADDRESS, LoginThrottleRepository
from overt.store.store import Store
from overt.users.throttle import ThrottleRules

PRUNE_EVERY = 100
"""Housekeeping runs on one failure in this many (per process)."""
_MAX_IDLE_COUNTERS = 100_000  # above this, counters imposing no delay now are dropped (as memory is cleared)


@dataclass(kw_only=True, eq=False)
class DbLoginThrottle(ThrottleRules):
    store: Store
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self._failures = itertools.count(1)

    @staticmethod
    def _keys(account: str, address: str) -> tuple[str, str]:
        return account[:64], address[:64]  # the column widths (names are 64 at most; IPv6 is 45)

    def _counter(self, repo: LoginThrottleRepository, account: str, address: str, now: float) -> str:
        """Which counter applies: the account's own, or its counter at an address it is known at."""
        return address if self.still_known(repo.known_since(account, address), now) else ANY_ADDRESS

    def retry_after_s(self, account: str, address: str) -> int:
        """Seconds until this account may be tried from this address (0: now), across all processes."""
        account, address = self._keys(account, address)
        now = self.clock()
        with self.store.db.session() as s:
            repo = LoginThrottleRepository(s)
            win = repo.address_window(address, now - self.address_window_s)
            wait = self.address_wait_s(win.failures, win.oldest_s, now)
            b = repo.backoff(account, self._counter(repo, account, address, now))
            if b is not None:
                wait = max(wait, b.until_s - now)
        return max(0, math.ceil(wait))

    def failed(self, account: str, address: str) -> None:
        account, address = self._keys(account, address)
        now = self.clock()
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
            delay = self.backoff_s(failures)
            repo.set_until(account, counter, now + delay if delay > 0 else 0.0)

    def succeeded(self, account: str, address: str) -> None:
        account, address = self._keys(account, address)
        now = self.clock()
        with self.store.db.session() as s:
            repo = LoginThrottleRepository(s)
            repo.clear(account, address)
            repo.remember(account, address, now)
