"""Data keys wrapped by the KEK, inside one transaction: create, use, destroy, re-wrap.

Domain code never sees ciphertext and storage never sees plaintext: repositories call
:meth:`Vault.seal` / :meth:`Vault.open` with the row's :class:`~overt.crypto.Aad`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from overt.crypto.envelope import Aad, blind_index, kek_fingerprint, new_key, open_sealed, seal, unwrap_key, wrap_key
from overt.errors import KeyDestroyedError, KeyRotatedError, WrongKeyError
from overt.store.models import DataKeyRow, MetaRow

INDEX_KEY_META = "index_key_id"
SPOOL_KEY_META = "spool_key_id"
KEK_META = "kek_id"

KekReloader = Callable[[str], bytes]
"""Given the KEK fingerprint the database now expects, the matching KEK (or KeyRotatedError)."""
KEK_RELOAD_INFO = "overt.kek_reload"
"""``Session.info`` key of the store's :data:`KekReloader` (the default of every vault)."""


class Vault:
    """Data keys of one transaction.

    Before the first wrap or unwrap it re-reads the KEK fingerprint the database expects (a
    shared row lock on PostgreSQL; SQLite already holds the write lock). If another process
    rotated the KEK meanwhile, ``reload`` fetches the new one; without it the vault refuses
    (:class:`KeyRotatedError`). So nothing is ever wrapped under a retired KEK.
    """

    def __init__(self, session: Session, kek: bytes, now: datetime, *, reload: KekReloader | None = None) -> None:
        self._s = session
        self._kek = kek
        self.kek_id = kek_fingerprint(kek)
        self._now = now
        self._cache: dict[str, bytes] = {}
        default = session.info.get(KEK_RELOAD_INFO)
        self._reload: KekReloader | None = reload if reload is not None else default if callable(default) else None
        self._checked = False

    def _check_kek(self) -> None:
        if self._checked:
            return
        q = select(MetaRow.value).where(MetaRow.key == KEK_META).with_for_update(read=True)
        expected = self._s.scalar(q)
        if expected is not None and expected != self.kek_id:
            if self._reload is None:
                raise KeyRotatedError(
                    "the key-encryption key was rotated by another process; restart this one to load the new key"
                )
            kek = self._reload(expected)
            self._kek, self.kek_id = kek, kek_fingerprint(kek)
        self._checked = True

    def create_key(self, purpose: str) -> str:
        self._check_kek()
        key_id = uuid.uuid4().hex
        key = new_key()
        self._s.add(
            DataKeyRow(
                id=key_id,
                purpose=purpose,
                wrapped=wrap_key(self._kek, key, key_id),
                kek_id=self.kek_id,
                created_at=self._now,
            )
        )
        self._s.flush()
        self._cache[key_id] = key
        return key_id

    def key(self, key_id: str) -> bytes:
        if key_id in self._cache:
            return self._cache[key_id]
        row = self._s.get(DataKeyRow, key_id)
        if row is None or row.wrapped is None:
            raise KeyDestroyedError(f"data key {key_id[:8]} was destroyed: the data it protected is unrecoverable")
        self._check_kek()
        if row.kek_id != self.kek_id:
            raise WrongKeyError(f"data key {key_id[:8]} is wrapped by another key-encryption key")
        key = unwrap_key(self._kek, row.wrapped, key_id)
        self._cache[key_id] = key
        return key

    def seal(self, key_id: str, plaintext: bytes, aad: Aad) -> bytes:
        return seal(self.key(key_id), plaintext, aad)

    def open(self, key_id: str, blob: bytes, aad: Aad) -> bytes:
        return open_sealed(self.key(key_id), blob, aad)

    def destroy(self, key_id: str) -> bool:
        """Crypto-shred: overwrite then drop the wrapped key. Returns False if already gone."""
        self._cache.pop(key_id, None)
        row = self._s.get(DataKeyRow, key_id)
        if row is None or row.wrapped is None:
            return False
        row.wrapped = None  # SQLite: secure_delete zeroes the old cell; checkpoint() clears the WAL
        row.destroyed_at = self._now
        self._s.flush()
        return True

    def is_destroyed(self, key_id: str) -> bool:
        row = self._s.get(DataKeyRow, key_id)
        return row is None or row.wrapped is None

    def _named_key(self, meta_key: str, purpose: str) -> bytes:
        """A data key found through a meta row, created on first use."""
        meta = self._s.get(MetaRow, meta_key)
        if meta is None:
            key_id = self.create_key(purpose)
            self._s.add(MetaRow(key=meta_key, value=key_id))
            self._s.flush()
            return self.key(key_id)
        return self.key(meta.value)

    def index_key(self) -> bytes:
        """The key of blind indexes (e.g. subject references), created on first use."""
        return self._named_key(INDEX_KEY_META, "index")

    def spool_key(self) -> bytes:
        """The key that seals alert spools of this data directory, created on first use."""
        return self._named_key(SPOOL_KEY_META, "spool")

    def blind_index(self, value: str) -> str:
        return blind_index(self.index_key(), value)

    def meta(self, key: str) -> str | None:
        row = self._s.get(MetaRow, key)
        return None if row is None else row.value

    def set_meta(self, key: str, value: str) -> None:
        row = self._s.get(MetaRow, key)
        if row is None:
            self._s.add(MetaRow(key=key, value=value))
        else:
            row.value = value

    def rewrap_all(self, new_kek: bytes) -> int:
        """Re-wrap every live data key under ``new_kek`` (the data itself is not touched)."""
        self._check_kek()
        new_id = kek_fingerprint(new_kek)
        self.set_meta(KEK_META, new_id)  # first: takes the row lock that wrapping transactions share
        self._s.flush()
        n = 0
        for row in self._s.scalars(select(DataKeyRow).where(DataKeyRow.wrapped.is_not(None))):
            if row.wrapped is None:  # pragma: no cover - filtered above
                continue
            if row.kek_id != self.kek_id:
                raise WrongKeyError(f"data key {row.id[:8]} is not wrapped by the current key-encryption key")
            key = unwrap_key(self._kek, row.wrapped, row.id)
            row.wrapped = wrap_key(new_kek, key, row.id)
            row.kek_id = new_id
            n += 1
        self._s.flush()
        self._kek = new_kek
        self.kek_id = new_id
        self._cache.clear()
        return n
