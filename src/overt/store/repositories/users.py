"""Users and their roles (password hashes only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from overt.domain.users import Role, User
from overt.errors import InputError, NotFoundError
from overt.store.models import UserRow


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        created_at=row.created_at,
        disabled=row.disabled,
        must_change_password=row.must_change_password,
    )


class UserRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(
        self,
        name: str,
        role: Role,
        password_hash: str,
        *,
        created_by: str | None,
        now: datetime,
        must_change_password: bool = False,
    ) -> User:
        if self._s.scalar(select(UserRow).where(UserRow.name == name)) is not None:
            raise InputError(f"user {name} already exists")
        row = UserRow(
            name=name,
            role=role.value,
            password_hash=password_hash,
            created_at=now,
            created_by=created_by,
            must_change_password=must_change_password,
        )
        self._s.add(row)
        self._s.flush()
        return _user(row)

    def get_with_hash(self, name: str) -> tuple[User, str] | None:
        row = self._s.scalar(select(UserRow).where(UserRow.name == name))
        return None if row is None else (_user(row), row.password_hash)

    def _row(self, name: str) -> UserRow:
        row = self._s.scalar(select(UserRow).where(UserRow.name == name))
        if row is None:
            raise NotFoundError(f"no user {name}")
        return row

    def set_password_hash(self, name: str, password_hash: str, *, must_change: bool = False) -> None:
        row = self._row(name)
        row.password_hash = password_hash
        row.must_change_password = must_change

    def set_disabled(self, name: str, disabled: bool) -> User:
        row = self._row(name)
        row.disabled = disabled
        return _user(row)

    def set_role(self, name: str, role: Role) -> User:
        row = self._row(name)
        row.role = role.value
        return _user(row)

    def by_id(self, user_id: int) -> User:
        row = self._s.get(UserRow, user_id)
        if row is None:
            raise NotFoundError(f"no user {user_id}")
        return _user(row)

    def find(self) -> list[User]:
        return [_user(r) for r in self._s.scalars(select(UserRow).order_by(UserRow.id))]

    def count(self) -> int:
        return int(self._s.scalar(select(func.count()).select_from(UserRow)) or 0)
