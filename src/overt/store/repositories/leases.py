"""Leases: a named piece of work (``deployment:<id>``) held by one holder until an expiry.

Acquire and renew are one conditional UPDATE (or an INSERT that does nothing on conflict), so
two workers racing for a free lease cannot both win, on PostgreSQL and SQLite alike. Times are
the database's clock (epoch seconds), never the caller's, so workers on skewed hosts agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, delete, literal, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from overt.store.models import LeaseRow

_NOW_SQL = {
    "postgresql": "SELECT extract(epoch from clock_timestamp())::float8",
    "sqlite": "SELECT (julianday('now') - 2440587.5) * 86400.0",
}


@dataclass(frozen=True, slots=True)
class Lease:
    name: str
    holder: str
    expires_s: float
    acquired_s: float


class LeaseRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    def now_s(self) -> float:
        """The database's wall clock in epoch seconds."""
        return float(self.s.execute(text(_NOW_SQL[self.s.get_bind().dialect.name])).scalar_one())

    def try_acquire(self, name: str, holder: str, ttl_s: float) -> bool:
        """Take or renew ``name`` for ``ttl_s`` seconds: True when ``holder`` holds it now."""
        now = self.now_s()
        renewed = self.s.connection().execute(  # Core: a real rowcount
            update(LeaseRow)
            .where(LeaseRow.name == name, (LeaseRow.holder == holder) | (LeaseRow.expires_s < now))
            .values(
                # a renewal keeps its tenure's start; a new holder starts its tenure now
                acquired_s=case((LeaseRow.holder == holder, LeaseRow.acquired_s), else_=literal(now)),
                holder=holder,
                expires_s=now + ttl_s,
            )
        )
        if renewed.rowcount == 1:
            return True
        dialect = self.s.get_bind().dialect.name
        ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(LeaseRow)
        created = self.s.connection().execute(
            ins.values(name=name, holder=holder, expires_s=now + ttl_s, acquired_s=now)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(LeaseRow.name)  # psycopg reports no rowcount for INSERT .. ON CONFLICT
        )
        return created.first() is not None

    def release(self, name: str, holder: str) -> bool:
        gone = self.s.connection().execute(delete(LeaseRow).where(LeaseRow.name == name, LeaseRow.holder == holder))
        return gone.rowcount == 1

    def get(self, name: str) -> Lease | None:
        row = self.s.scalar(select(LeaseRow).where(LeaseRow.name == name))
        return None if row is None else Lease(row.name, row.holder, row.expires_s, row.acquired_s)
