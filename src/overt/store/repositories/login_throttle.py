"""Login-throttle state shared by every API process: failure counters, the per-address failure
window and the addresses each account has logged in from.

The store keeps counts and times only; the rules (how long to wait) are
:mod:`overt.users.throttle`. A failure is counted by one ``INSERT .. ON CONFLICT DO NOTHING`` and
one ``UPDATE failures = failures + 1`` in the caller's transaction, which locks the row until commit
(PostgreSQL) or the database (SQLite), so concurrent processes never lose a count.
Times are epoch seconds of the API hosts' wall clocks (NTP-synchronised, as for sessions).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from overt.store.models import LoginBackoffRow, LoginFailureRow, LoginKnownRow

ANY_ADDRESS = ""
"""The ``address`` of an account's own counter (failures from addresses it is not known at)."""


@dataclass(frozen=True, slots=True)
class Backoff:
    failures: int
    until_s: float


@dataclass(frozen=True, slots=True)
class AddressWindow:
    failures: int
    oldest_s: float | None


class LoginThrottleRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    def _insert(self, table: type[LoginBackoffRow] | type[LoginKnownRow]) -> postgresql.Insert | sqlite.Insert:
        """The dialect's INSERT (both have ``ON CONFLICT``)."""
        return (postgresql.insert if self.s.get_bind().dialect.name == "postgresql" else sqlite.insert)(table)

    def backoff(self, account: str, address: str = ANY_ADDRESS) -> Backoff | None:
        row = self.s.get(LoginBackoffRow, (account, address))
        return None if row is None else Backoff(row.failures, row.until_s)

    def count_failure(self, account: str, address: str = ANY_ADDRESS) -> int:
        """One more consecutive failure on this counter (created at zero): the new count."""
        conn = self.s.connection()
        fresh = self._insert(LoginBackoffRow).values(account=account, address=address, failures=0, until_s=0.0)
        conn.execute(fresh.on_conflict_do_nothing(index_elements=["account", "address"]))
        key = (LoginBackoffRow.account == account) & (LoginBackoffRow.address == address)
        conn.execute(update(LoginBackoffRow).where(key).values(failures=LoginBackoffRow.failures + 1))
        return int(conn.execute(select(LoginBackoffRow.failures).where(key)).scalar_one())

    def set_until(self, account: str, address: str, until_s: float) -> None:
        self.s.connection().execute(
            update(LoginBackoffRow)
            .where(LoginBackoffRow.account == account, LoginBackoffRow.address == address)
            .values(until_s=until_s)
        )

    def clear(self, account: str, address: str) -> None:
        """A login succeeded: the account's counter and its counter at this address start again."""
        self.s.execute(
            delete(LoginBackoffRow).where(
                LoginBackoffRow.account == account, LoginBackoffRow.address.in_([ANY_ADDRESS, address])
            )
        )

    def add_address_failure(self, address: str, at_s: float) -> None:
        self.s.add(LoginFailureRow(address=address, at_s=at_s))
        self.s.flush()

    def address_window(self, address: str, since_s: float) -> AddressWindow:
        q = select(func.count(), func.min(LoginFailureRow.at_s)).where(
            LoginFailureRow.address == address, LoginFailureRow.at_s >= since_s
        )
        n, oldest = self.s.execute(q).one()
        return AddressWindow(int(n or 0), None if oldest is None else float(oldest))

    def known_since(self, account: str, address: str) -> float | None:
        row = self.s.get(LoginKnownRow, (account, address))
        return None if row is None else row.seen_s

    def remember(self, account: str, address: str, seen_s: float) -> None:
        self.s.connection().execute(
            self._insert(LoginKnownRow)
            .values(account=account, address=address, seen_s=seen_s)
            .on_conflict_do_update(index_elements=["account", "address"], set_={"seen_s": seen_s})
        )

    def prune(self, *, failures_before_s: float, known_before_s: float, idle_backoffs_over: int, now_s: float) -> None:
        """Housekeeping: failures outside the window, stale known addresses, and (only when more than
        ``idle_backoffs_over`` counters are held) the counters that impose no delay now."""
        self.s.execute(delete(LoginFailureRow).where(LoginFailureRow.at_s < failures_before_s))
        self.s.execute(delete(LoginKnownRow).where(LoginKnownRow.seen_s < known_before_s))
        held = int(self.s.scalar(select(func.count()).select_from(LoginBackoffRow)) or 0)
        if held > idle_backoffs_over:
            self.s.execute(delete(LoginBackoffRow).where(LoginBackoffRow.until_s <= now_s))
