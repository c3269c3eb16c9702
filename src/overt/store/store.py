"""The store: a database, the KEK, a clock and a policy; ``transaction()`` gives repositories.

Everything in one ``with store.transaction() as tx:`` block commits together, including the
audit entries that record it (an action without its audit entry is never committed).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from overt.audit.log import AuditLog
from overt.crypto.envelope import kek_fingerprint
from overt.crypto.keys import KeyStore
from overt.domain.clock import Clock, SystemClock
from overt.errors import ConfigError, WrongKeyError
from overt.store.db import Database
from overt.store.models import MetaRow
from overt.store.repositories import (
    AlertRepository,
    AlertReviewRepository,
    ApiTokenRepository,
    DeploymentRepository,
    SnapshotRepository,
    UserRepository,
    WatchlistRepository,
)
from overt.store.vault import Vault

KEK_META = "kek_id"


@dataclass(frozen=True, slots=True)
class Policy:
    """Retention and destruction rules (configurable per data directory)."""

    alert_retention: timedelta = timedelta(hours=24)
    """Alerts and their images are deleted this long after they were raised, unless retained."""
    snapshot_shred_after: timedelta = timedelta(hours=24)
    """At the latest this long after a deployment's planned end, its snapshot key is destroyed."""
    notice_lead_time: timedelta = timedelta(hours=24)
    """A deployment starts only once its public notice has been published this long (or an urgent override)."""

    def __post_init__(self) -> None:
        if min(self.alert_retention, self.snapshot_shred_after, self.notice_lead_time) < timedelta(0):
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
    def __init__(
        self, db: Database, keys: KeyStore, *, clock: Clock | None = None, policy: Policy | None = None
    ) -> None:
        self.db = db
        self.keys = keys
        self.clock: Clock = clock or SystemClock()
        self.policy = policy or Policy()
        self._kek: bytes | None = None

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
                raise WrongKeyError(
                    f"the key from {self.keys.description} does not belong to this database "
                    f"(key id {fp[:8]}, database expects {meta.value[:8]}); nothing was changed"
                )
        self._kek = kek
        return self

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
            vault = Vault(s, self.kek, self.clock.now())
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
        """Re-wrap every data key under ``new_kek`` in one transaction; returns how many."""
        with self.transaction() as tx:
            n = tx.vault.rewrap_all(new_kek)
            tx.vault.set_meta(KEK_META, kek_fingerprint(new_kek))
            tx.audit.append(actor, "keys.rotated", "kek", {"data_keys": n, "new_kek_id": kek_fingerprint(new_kek)[:8]})
        self._kek = new_kek
        return n
