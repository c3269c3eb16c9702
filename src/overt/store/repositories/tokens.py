"""API tokens: stored only as their SHA-256 (tokens are 256-bit random strings, so a plain hash is
enough: there is nothing to brute-force). Revoked and expired tokens stay for the record.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from overt.errors import InputError, NotFoundError
from overt.store.models import ApiTokenRow

TokenKind = Literal["device", "user"]
TOKEN_PREFIX = "ovt_"  # noqa: S105 - a prefix, not a secret


LAST_USED_EVERY = timedelta(seconds=60)
"""``last_used_at`` is written at most this often per token (an edge node posts several alerts a second)."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    name: str
    kind: TokenKind
    user_name: str | None
    deployment_id: int | None
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    cameras: tuple[str, ...] | None = None  # device tokens: the camera ids it may post for (None: any)

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


def _token(row: ApiTokenRow) -> ApiToken:
    kind: TokenKind = "device" if row.kind == "device" else "user"
    return ApiToken(
        id=row.id,
        name=row.name,
        kind=kind,
        user_name=row.user_name,
        deployment_id=row.deployment_id,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
        cameras=None if row.cameras_json is None else tuple(json.loads(row.cameras_json)),
    )


class ApiTokenRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(
        self,
        *,
        name: str,
        kind: TokenKind,
        user_name: str | None,
        deployment_id: int | None,
        created_by: str,
        now: datetime,
        expires_at: datetime,
        cameras: tuple[str, ...] | None = None,
    ) -> tuple[ApiToken, str]:
        """A new token; the secret is returned once and only its hash is kept."""
        if expires_at <= now:
            raise InputError("a token's expiry must lie in the future")
        secret = new_token()
        row = ApiTokenRow(
            name=name,
            token_hash=hash_token(secret),
            kind=kind,
            user_name=user_name,
            deployment_id=deployment_id,
            created_by=created_by,
            created_at=now,
            expires_at=expires_at,
            cameras_json=None if cameras is None else json.dumps(list(cameras)),
        )
        self._s.add(row)
        self._s.flush()
        return _token(row), secret

    def by_secret(self, secret: str, *, now: datetime) -> ApiToken | None:
        row = self._s.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == hash_token(secret)))
        if row is None:
            return None
        tok = _token(row)
        last = tok.last_used_at
        if tok.usable(now) and (last is None or now - last >= LAST_USED_EVERY):  # not a write per request
            row.last_used_at = now
        return tok

    def find(self) -> list[ApiToken]:
        return [_token(r) for r in self._s.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id))]

    def get(self, token_id: int) -> ApiToken:
        row = self._s.get(ApiTokenRow, token_id)
        if row is None:
            raise NotFoundError(f"no API token {token_id}")
        return _token(row)

    def revoke_for_user(self, user_name: str, *, now: datetime) -> int:
        """Revoke every live token that acts as this user; the number revoked."""
        rows = self._s.scalars(
            select(ApiTokenRow).where(ApiTokenRow.user_name == user_name, ApiTokenRow.revoked_at.is_(None))
        ).all()
        for row in rows:
            row.revoked_at = now
        self._s.flush()
        return len(rows)

    def revoke(self, token_id: int, *, now: datetime) -> ApiToken:
        row = self._s.get(ApiTokenRow, token_id)
        if row is None:
            raise NotFoundError(f"no API token {token_id}")
        if row.revoked_at is None:
            row.revoked_at = now
        self._s.flush()
        return _token(row)
