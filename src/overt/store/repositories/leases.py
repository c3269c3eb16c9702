"""Leases: a named piece of work (``deployment:<id>``) held by one holder until an expiry.

Acquire and renew are one conditional UPDATE (or an INSERT that does nothing on conflict), so
two workers racing for a free lease cannot both win, on PostgreSQL and SQLite alike. Times are
the database's clock (epoch seconds), never the caller's, so workers on skewed hosts agree.

Fencing: each lease row carries an ``epoch``, incremented in that same statement whenever a new
holder takes the lease (1 for the first), never reset: a release keeps the row (holder emptied,
expired). The holder writes under its :class:`~overt.domain.leases.Fence`; :meth:`check_fence`,
called inside the write's own transaction, locks the lease row (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite transactions are ``BEGIN IMMEDIATE``, so the writer holds the database's
write lock already) and refuses a stale token, so a takeover and a stale write cannot interleave.
A transaction holding a lease row that goes idle for :data:`IDLE_LOCK_MS` is ended by PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, literal, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from overt.domain.leases import Fence
from overt.errors import StaleLeaseError
from overt.store.models import LeaseRow

_NOW_SQL = {
    "postgresql": "SELECT extract(epoch from clock_timestamp())::float8",
    "sqlite": "SELECT (julianday('now') - 2440587.5) * 86400.0",
}

IDLE_LOCK_MS = 2000
"""PostgreSQL: a transaction that locks a lease row and then goes idle this long (its process
was frozen mid-transaction) is ended by the server, so a frozen leader cannot block a takeover
(at most the shortest lease time to live, ``overt worker --lease-ttl`` >= 2 s)."""

RELEASED = ""
"""The holder of a released lease (the row stays: its epoch must never go back)."""


@dataclass(frozen=True, slots=True)
class Lease:
    name: str
    holder: str
    expires_s: float
    acquired_s: float
    epoch: int = 1


class LeaseRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    def now_s(self) -> float:
        """The database's wall clock in epoch seconds."""
        return float(self.s.execute(text(_NOW_SQL[self.s.get_bind().dialect.name])).scalar_one())

    def _bound_idle_lock(self) -> bool:
        """PostgreSQL (True): this transaction is ended if it idles :data:`IDLE_LOCK_MS` holding the row."""
        if self.s.get_bind().dialect.name != "postgresql":
            return False
        self.s.execute(text(f"SET LOCAL idle_in_transaction_session_timeout = {IDLE_LOCK_MS}"))
        return True

    def take(self, name: str, holder: str, ttl_s: float) -> Fence | None:
        """Take or renew ``name`` for ``ttl_s`` seconds: the fence ``holder`` now writes under, or
        None when another holder has it. A renewal keeps the epoch; a new holder gets epoch + 1."""
        if not holder:
            raise ValueError("a lease holder needs a name")
        now = self.now_s()
        renewed = (
            self.s.connection()
            .execute(
                update(LeaseRow)
                .where(LeaseRow.name == name, (LeaseRow.holder == holder) | (LeaseRow.expires_s < now))
                .values(
                    # a renewal keeps its tenure's start and epoch; a new holder starts a new tenure now
                    acquired_s=case((LeaseRow.holder == holder, LeaseRow.acquired_s), else_=literal(now)),
                    epoch=case((LeaseRow.holder == holder, LeaseRow.epoch), else_=LeaseRow.epoch + 1),
                    holder=holder,
                    expires_s=now + ttl_s,
                )
                .returning(LeaseRow.epoch)
            )
            .first()
        )
        if renewed is not None:
            return Fence(name, int(renewed[0]))
        dialect = self.s.get_bind().dialect.name
        ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(LeaseRow)
        created = (
            self.s.connection()
            .execute(
                ins.values(name=name, holder=holder, expires_s=now + ttl_s, acquired_s=now, epoch=1)
                .on_conflict_do_nothing(index_elements=["name"])
                .returning(LeaseRow.epoch)  # psycopg reports no rowcount for INSERT .. ON CONFLICT
            )
            .first()
        )
        return None if created is None else Fence(name, int(created[0]))

    def release(self, name: str, holder: str) -> bool:
        """Give the lease up at once; the row (and its epoch) stays, so the next holder's is higher."""
        gone = self.s.connection().execute(
            update(LeaseRow)
            .where(LeaseRow.name == name, LeaseRow.holder == holder)
            .values(holder=RELEASED, expires_s=0.0)
        )
        return gone.rowcount == 1

    def get(self, name: str) -> Lease | None:
        """The lease's current holder, or None when nobody holds it (never taken, or released)."""
        row = self.s.scalar(select(LeaseRow).where(LeaseRow.name == name, LeaseRow.holder != RELEASED))
        return None if row is None else Lease(row.name, row.holder, row.expires_s, row.acquired_s, row.epoch)

    def check_fence(self, fence: Fence) -> None:
        """Inside a write's transaction: raise :class:`StaleLeaseError` unless ``fence`` is the
        lease's current epoch and the lease is held. The lease row stays locked until the
        transaction ends, so no takeover commits between this check and the write."""
        q = select(LeaseRow.epoch, LeaseRow.holder).where(LeaseRow.name == fence.name)
        if self._bound_idle_lock():
            q = q.with_for_update()
        row = self.s.execute(q).first()
        if row is None or row.holder == RELEASED or int(row.epoch) != fence.token:
            current = "gone" if row is None else f"at epoch {row.epoch}"
            raise StaleLeaseError(
                f"lease {fence.name}: fencing token {fence.token} is stale (the lease is {current}); "
                "another worker leads now, nothing was written"
            )
