"""Console sessions in the database, shared by every API process.

Rows hold only the SHA-256 digest of the cookie id: a copy of the table cannot be replayed as cookies.
Times are epoch seconds of the API processes' wall clocks (NTP-synchronised hosts).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from overt.store.models import WebSessionRow


@dataclass(frozen=True, slots=True)
class StoredSession:
    id_hash: str
    csrf: str
    user_name: str | None
    created_s: float
    last_seen_s: float
    data: dict[str, str]


def _session(row: WebSessionRow) -> StoredSession:
    data = json.loads(row.data_json or "{}")
    return StoredSession(row.id_hash, row.csrf, row.user_name, row.created_s, row.last_seen_s, dict(data))


class WebSessionRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, stored: StoredSession, *, address_key: str | None = None) -> None:
        self.s.add(
            WebSessionRow(
                id_hash=stored.id_hash,
                csrf=stored.csrf,
                user_name=stored.user_name,
                created_s=stored.created_s,
                last_seen_s=stored.last_seen_s,
                data_json=json.dumps(stored.data),
                address_key=address_key,
            )
        )

    def get(self, id_hash: str) -> StoredSession | None:
        row = self.s.get(WebSessionRow, id_hash)
        return None if row is None else _session(row)

    def touch(self, id_hash: str, now_s: float) -> None:
        row = self.s.get(WebSessionRow, id_hash)
        if row is not None:
            row.last_seen_s = now_s

    def remove(self, id_hash: str) -> None:
        self.s.execute(delete(WebSessionRow).where(WebSessionRow.id_hash == id_hash))

    def remove_user(self, user_name: str) -> int:
        n = self.s.scalar(select(func.count()).select_from(WebSessionRow).where(WebSessionRow.user_name == user_name))
        self.s.execute(delete(WebSessionRow).where(WebSessionRow.user_name == user_name))
        return int(n or 0)

    def remove_expired(self, idle_before_s: float, created_before_s: float) -> None:
        self.s.execute(
            delete(WebSessionRow).where(
                (WebSessionRow.last_seen_s < idle_before_s) | (WebSessionRow.created_s < created_before_s)
            )
        )

    def count_all(self) -> int:
        return int(self.s.scalar(select(func.count()).select_from(WebSessionRow)) or 0)

    def count_anonymous(self) -> int:
        q = select(func.count()).select_from(WebSessionRow).where(WebSessionRow.user_name.is_(None))
        return int(self.s.scalar(q) or 0)

    def remove_oldest_anonymous(self, n: int) -> None:
        oldest = (
            select(WebSessionRow.id_hash)
            .where(WebSessionRow.user_name.is_(None))
            .order_by(WebSessionRow.last_seen_s)
            .limit(n)
        )
        self.s.execute(delete(WebSessionRow).where(WebSessionRow.id_hash.in_(list(self.s.scalars(oldest)))))

    def count_anonymous_at(self, address_key: str) -> int:
        q = select(func.count()).select_from(WebSessionRow).where(*self._anonymous_at(address_key))
        return int(self.s.scalar(q) or 0)

    def remove_oldest_anonymous_at(self, address_key: str, n: int) -> None:
        """One address's ``n`` least recently seen anonymous sessions (never another address's)."""
        oldest = (
            select(WebSessionRow.id_hash)
            .where(*self._anonymous_at(address_key))
            .order_by(WebSessionRow.last_seen_s)
            .limit(n)
        )
        self.s.execute(delete(WebSessionRow).where(WebSessionRow.id_hash.in_(list(self.s.scalars(oldest)))))

    @staticmethod
    def _anonymous_at(address_key: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
        return WebSessionRow.user_name.is_(None), WebSessionRow.address_key == address_key
