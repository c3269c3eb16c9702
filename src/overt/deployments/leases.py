"""Pipeline leadership: exactly one worker runs a deployment's cameras; another takes over.

Every worker that can run deployment ``d`` competes for the lease ``deployment:<d>`` (a row with
an expiry, see :mod:`overt.store.repositories.leases`). The holder renews it every ``renew_s``;
the others try to take it every ``renew_s`` and win once it has expired, ``ttl_s`` after the
holder's last renewal (a ``kill -9``, a crash, a lost network). Worst-case takeover is therefore
``ttl_s + renew_s`` plus the pipeline's start.

A holder that cannot renew (the database is unreachable) stops its pipeline before its lease can
have expired (``ttl_s - renew_s`` after its last renewal), so two workers never run the same
cameras at once as long as the database's clock is the only clock that matters: lease times are
the database's, not the hosts'.

A holder that is *paused* rather than dead (SIGSTOP, a long GC pause, a frozen VM) cannot notice
anything until it runs again, and then its pipeline may write before its lease thread ticks.
So every acquisition by a new holder gets the next *fencing token* (the lease's epoch, kept in
the lease row), the leader writes under it (:attr:`Leadership.fence`: alerts, counters, a
deployment's failure), and the store refuses a write whose token is no longer the lease's epoch
(:class:`~overt.errors.StaleLeaseError`), in the write's own transaction. A refused writer calls
:meth:`Leadership.fenced`, which stops its work at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable

from overt.domain.leases import Fence
from overt.errors import ConfigError, StaleLeaseError
from overt.store.repositories.leases import Lease, LeaseRepository
from overt.store.store import Store

log = logging.getLogger(__name__)


def deployment_lease(deployment_id: int) -> str:
    return f"deployment:{deployment_id}"


def worker_identity() -> str:
    """A holder name unique to this process (host, pid, random): no two workers share one."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaseService:
    def __init__(self, store: Store, *, ttl_s: float = 5.0) -> None:
        if ttl_s <= 0:
            raise ConfigError("a lease needs a positive time to live")
        self.store = store
        self.ttl_s = ttl_s

    def acquire(self, name: str, holder: str) -> Fence | None:
        """Take ``name`` if it is free or expired, or renew it if ``holder`` has it: the fencing
        token ``holder`` writes under while it leads, or None when another holder has it."""
        with self.store.db.session() as s:
            return LeaseRepository(s).take(name, holder, self.ttl_s)

    def release(self, name: str, holder: str) -> bool:
        with self.store.db.session() as s:
            return LeaseRepository(s).release(name, holder)

    def get(self, name: str) -> Lease | None:
        with self.store.db.session() as s:
            return LeaseRepository(s).get(name)


class Leadership:
    """A thread that keeps competing for one lease and says when this worker gains or loses it.

    ``on_gain`` starts the work, ``on_lose`` stops it; both run on this thread. ``stop()`` stops
    the work and releases the lease, so a clean shutdown hands over at once. While leading,
    :attr:`fence` is the token the work writes under; a write refused as stale reports it with
    :meth:`fenced` (from any thread), and the work is stopped at once.
    """

    def __init__(
        self,
        leases: LeaseService,
        name: str,
        *,
        on_gain: Callable[[], None],
        on_lose: Callable[[str], None],
        holder: str | None = None,
        renew_s: float = 1.0,
    ) -> None:
        if not 0 < renew_s < leases.ttl_s / 2:
            raise ConfigError("renew a lease at least twice per time to live")
        self.leases = leases
        self.name = name
        self.holder = holder or worker_identity()
        self.on_gain = on_gain
        self.on_lose = on_lose
        self.renew_s = renew_s
        self.leader = False
        self.gained = 0
        self.fence: Fence | None = None
        self.refused = 0
        self._last_renewed = 0.0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._stale = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="overt-lease", daemon=True)

    def start(self) -> Leadership:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        if self.leader:
            self._lose("worker stopped")
            try:
                self.leases.release(self.name, self.holder)
            except Exception:  # the lease then expires by itself
                log.warning("lease %s: release failed", self.name, exc_info=True)

    def fenced(self, exc: StaleLeaseError) -> None:
        """A write of the work was refused: another worker holds the lease at a newer epoch. Safe
        from any thread; the lease thread stops the work at once (no names or ids are logged)."""
        self.refused += 1
        if not self._stale.is_set():
            log.warning("lease %s: a write was refused as stale; stopping the work (%s)", self.name, exc)
        self._stale.set()
        self._wake.set()

    def _lose(self, why: str) -> None:
        self.leader = False
        self.fence = None
        try:
            self.on_lose(why)
        except Exception:
            log.exception("lease %s: stopping the work failed", self.name)

    def tick(self) -> None:
        """One round: renew or try to take the lease, and follow the outcome."""
        if self._stale.is_set():
            self._stale.clear()
            if self.leader:
                self._lose("fenced: another worker took the lease over")
        try:
            fence = self.leases.acquire(self.name, self.holder)
        except Exception:
            log.warning("lease %s: the database did not answer", self.name, exc_info=True)
            if self.leader and time.monotonic() - self._last_renewed > self.leases.ttl_s - self.renew_s:
                self._lose("lease could not be renewed")  # stop before another worker may take over
            return
        if fence is not None:
            self._last_renewed = time.monotonic()
            if self.leader and fence != self.fence:  # another held it meanwhile (we were paused): restart
                self._lose("lease taken over by another worker meanwhile")
            if not self.leader:
                self.leader = True
                self.fence = fence
                self.gained += 1
                log.info("lease %s: this worker leads", self.name)
                try:
                    self.on_gain()
                except Exception:  # could not start: hand the work to another worker
                    log.exception("lease %s: starting the work failed", self.name)
                    self.leader = False
                    self.fence = None
                    self.leases.release(self.name, self.holder)
        elif self.leader:
            self._lose("lease taken over by another worker")

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._wake.wait(self.renew_s)
            self._wake.clear()
