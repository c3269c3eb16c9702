"""The store: a database, the KEK, a clock and a policy; ``transaction()`` gives repositories.

Everything in one ``with store.transaction() as tx:`` block commits together, including the
audit entries that record it (an action without its audit entry is never committed).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from overt.audit.log import (
    AUDIT_KEY_META,
    MAC_KEY_INFO,
    AuditLog,
    derive_mac_key,
    keyed_from_mac,
    lock_chain,
    read_keyed_from,
)
from overt.crypto.envelope import kek_fingerprint
from overt.crypto.keys import KeyStore
from overt.domain.clock import Clock, SystemClock
from overt.errors import ConfigError, CryptoError, KeyRotatedError, WrongKeyError
from overt.store.db import Database
from overt.store.models import AuditRow, MetaRow
from overt.store.repositories import (
    AlertRepository,
    AlertReviewRepository,
    ApiTokenRepository,
    DeploymentRepository,
    SnapshotRepository,
    UserRepository,
    WatchlistRepository,
)
from overt.store.vault import KEK_META, KEK_RELOAD_INFO, Vault


@dataclass(frozen=True, slots=True)
class Policy:
    """Retention and destruction rules (configurable per data directory)."""

    alert_retention: timedelta = timedelta(hours=24)
    """Alerts and their images are deleted this long after they were raised, unless retained."""
    snapshot_shred_after: timedelta = timedelta(hours=24)
    """At the latest this long after a deployment's planned end, its snapshot key is destroyed."""
    notice_lead_time: timedelta = timedelta(hours=24)
    """A deployment starts only once its public notice has been published this long (or an urgent override)."""
    second_person_confirmation: bool = False
    """A true-match verdict counts only once a second operator confirms it, whoever records it
    (console, API or CLI); ``overt serve/run --second-person`` can also turn it on, never off."""
    undo_window: timedelta = timedelta(seconds=10)
    """How long after a verdict (or proposal) the person who made it may undo it (``alerts.followups``);
    later, a correction is recorded instead."""

    def __post_init__(self) -> None:
        if min(self.alert_retention, self.snapshot_shred_after, self.notice_lead_time, self.undo_window) < timedelta(0):
            raise ConfigError("retention periods must not be negative")


@dataclass
class Tx:
    """One transaction's repositories."""

    vault: Vault
    audit: AuditLog
    users: UserRepository
    deployments: DeploymentRepository
    watchlist: WatchlistRepository
    snapshots: SnapshotRepository
    alerts: AlertRepository
    reviews: AlertReviewRepository
    tokens: ApiTokenRepository
    session: Session = field(repr=False)
    clock: Clock = field(repr=False)
    policy: Policy = field(default_factory=Policy)


class Store:
    """``keys`` gives the KEK; ``pending_keys`` (file source: ``kek.key.new``) is where a rotation
    in progress in another process writes the next one. When the database says the KEK changed,
    the store reloads it from either (see :meth:`reload_kek`)."""

    def __init__(
        self,
        db: Database,
        keys: KeyStore,
        *,
        clock: Clock | None = None,
        policy: Policy | None = None,
        pending_keys: KeyStore | None = None,
    ) -> None:
        self.db = db
        self.keys = keys
        self.pending_keys = pending_keys
        self.clock: Clock = clock or SystemClock()
        self.policy = policy or Policy()
        self._kek: bytes | None = None
        self._kek_lock = threading.Lock()

    def open(self, *, create: bool = False) -> Store:
        """Migrate the schema and check that the KEK belongs to this database."""
        kek = self.keys.load_kek()  # a missing key fails here, before anything is touched
        self.db.migrate()
        fp = kek_fingerprint(kek)
        with self.db.session() as s:
            meta = s.get(MetaRow, KEK_META)
            if meta is None:
                s.add(MetaRow(key=KEK_META, value=fp))
            elif meta.value != fp:
                pending = self._pending_matches(meta.value)  # a rotation in another process committed
                if pending is not None:
                    kek = pending
                    fp = meta.value
            if meta is not None and meta.value != fp:
                raise WrongKeyError(
                    f"the key from {self.keys.description} does not belong to this database "
                    f"(key id {fp[:8]}, database expects {meta.value[:8]}); nothing was changed"
                )
        self._kek = kek
        self.db.session_info[KEK_RELOAD_INFO] = self.reload_kek
        self._key_audit_chain()
        return self

    def _key_audit_chain(self) -> None:
        """Load the audit chain's MAC key; key the chain first if it never was (migration)."""
        mac_key: bytes | None = None
        with self.db.session() as s:
            lock_chain(s)
            vault = Vault(s, self.kek, self.clock.now(), reload=self.reload_kek)
            kf = read_keyed_from(s)
            if kf is not None:
                try:
                    mac_key = derive_mac_key(vault.key(kf.key_id))
                except CryptoError:
                    mac_key = None  # removed or damaged: appends refuse, verify reports it
            elif s.scalar(select(AuditRow.seq).where(AuditRow.mac.is_not(None)).limit(1)) is None:
                key_id = vault.create_key("audit")
                mac_key = derive_mac_key(vault.key(key_id))
                last = s.scalar(select(AuditRow.seq).order_by(AuditRow.seq.desc()).limit(1))
                from_seq = 1 if last is None else int(last) + 1
                doc = {"key_id": key_id, "from_seq": from_seq, "mac": keyed_from_mac(mac_key, from_seq, key_id)}
                s.add(MetaRow(key=AUDIT_KEY_META, value=json.dumps(doc)))
                s.flush()
                if last is not None:
                    AuditLog(s, self.clock, mac_key=mac_key).append(
                        "system", "audit.chain_keyed", "audit", {"legacy_entries": int(last)}
                    )
        if mac_key is None:
            self.db.session_info.pop(MAC_KEY_INFO, None)
        else:
            self.db.session_info[MAC_KEY_INFO] = mac_key

    def _pending_matches(self, expected_id: str) -> bytes | None:
        if self.pending_keys is None:
            return None
        try:
            kek = self.pending_keys.load_kek()
        except CryptoError:
            return None
        return kek if kek_fingerprint(kek) == expected_id else None

    def reload_kek(self, expected_id: str) -> bytes:
        """The KEK whose fingerprint is ``expected_id`` (after another process rotated it).

        Tries the key source, then the pending key of a rotation that committed but has not yet
        replaced the key file. :class:`KeyRotatedError` when neither matches (env/passphrase
        sources: restart the process with the new key).
        """
        with self._kek_lock:
            if self._kek is not None and kek_fingerprint(self._kek) == expected_id:
                return self._kek
            for source in (self.keys, self.pending_keys):
                if source is None:
                    continue
                try:
                    kek = source.load_kek()
                except CryptoError:
                    continue
                if kek_fingerprint(kek) == expected_id:
                    self._kek = kek
                    return kek
        raise KeyRotatedError(
            f"the key-encryption key was rotated (database expects key id {expected_id[:8]}) and "
            f"{self.keys.description} does not hold it: restart with the new key; nothing was written"
        )

    @property
    def kek(self) -> bytes:
        if self._kek is None:
            raise RuntimeError("Store.open() first")
        return self._kek

    def expected_kek_id(self) -> str | None:
        with self.db.session() as s:
            meta = s.get(MetaRow, KEK_META)
            return None if meta is None else meta.value

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self.db.session() as s:
            vault = Vault(s, self.kek, self.clock.now(), reload=self.reload_kek)
            deployments = DeploymentRepository(s)
            yield Tx(
                vault=vault,
                audit=AuditLog(s, self.clock),
                users=UserRepository(s),
                deployments=deployments,
                watchlist=WatchlistRepository(s, vault),
                snapshots=SnapshotRepository(s, vault),
                alerts=AlertRepository(s, vault, deployments),
                reviews=AlertReviewRepository(s),
                tokens=ApiTokenRepository(s),
                session=s,
                clock=self.clock,
                policy=self.policy,
            )

    def rotate_kek(self, new_kek: bytes, *, actor: str) -> int:
        """Re-wrap every data key under ``new_kek`` in one transaction; returns how many.

        The ``kek_id`` row is updated first, so running processes see the new fingerprint in
        their next transaction and reload (or refuse): none wraps under the retired key.
        """
        with self.transaction() as tx:
            n = tx.vault.rewrap_all(new_kek)
            tx.audit.append(actor, "keys.rotated", "kek", {"data_keys": n, "new_kek_id": kek_fingerprint(new_kek)[:8]})
        self._kek = new_kek
        return n
