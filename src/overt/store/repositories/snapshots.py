"""Per-deployment watch-list snapshots, sealed under the deployment's own key."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from overt.crypto.envelope import Aad
from overt.domain.watchlist import (
    Category,
    SnapshotSubject,
    WatchlistSnapshot,
)
from overt.errors import InputError, KeyDestroyedError, NotFoundError
from overt.store.models import SnapshotRow
from overt.store.repositories.watchlist import template_from_bytes, template_to_bytes
from overt.store.vault import Vault


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    id: int
    deployment_id: int
    entry_count: int
    model_id: str
    created_at: datetime
    destroyed_at: datetime | None

    @property
    def destroyed(self) -> bool:
        return self.destroyed_at is not None


class SnapshotRepository:
    def __init__(self, session: Session, vault: Vault) -> None:
        self._s = session
        self._v = vault

    def _row(self, deployment_id: int) -> SnapshotRow | None:
        return self._s.scalar(select(SnapshotRow).where(SnapshotRow.deployment_id == deployment_id))

    def create(self, snap: WatchlistSnapshot, *, now: datetime) -> SnapshotInfo:
        if self._row(snap.deployment_id) is not None:
            raise InputError(f"deployment {snap.deployment_id} already has a snapshot")
        key_id = self._v.create_key("snapshot")
        row = SnapshotRow(
            deployment_id=snap.deployment_id,
            key_id=key_id,
            created_at=now,
            entry_count=len(snap),
            model_id=snap.model_id,
        )
        self._s.add(row)
        self._s.flush()
        doc = {
            "deployment_id": snap.deployment_id,
            "model_id": snap.model_id,
            "subjects": [
                {
                    "entry_id": s.entry_id,
                    "ref": s.subject_ref,
                    "category": s.category.value,
                    "template": base64.b64encode(template_to_bytes(s.template)).decode(),
                }
                for s in snap.subjects
            ],
        }
        row.blob = self._v.seal(key_id, json.dumps(doc).encode(), Aad("snapshots", str(row.id)))
        self._s.flush()
        return self._info(row)

    @staticmethod
    def _info(row: SnapshotRow) -> SnapshotInfo:
        return SnapshotInfo(row.id, row.deployment_id, row.entry_count, row.model_id, row.created_at, row.destroyed_at)

    def info(self, deployment_id: int) -> SnapshotInfo | None:
        row = self._row(deployment_id)
        return None if row is None else self._info(row)

    def load(self, deployment_id: int) -> WatchlistSnapshot:
        row = self._row(deployment_id)
        if row is None:
            raise NotFoundError(f"deployment {deployment_id} has no watch-list snapshot (not authorised)")
        if row.blob is None:
            raise KeyDestroyedError(f"the snapshot of deployment {deployment_id} was destroyed")
        doc = json.loads(self._v.open(row.key_id, row.blob, Aad("snapshots", str(row.id))))
        subjects = tuple(
            SnapshotSubject(
                entry_id=int(s["entry_id"]),
                subject_ref=str(s["ref"]),
                category=Category(s["category"]),
                template=template_from_bytes(base64.b64decode(s["template"]), doc["model_id"]),
            )
            for s in doc["subjects"]
        )
        return WatchlistSnapshot(deployment_id=deployment_id, model_id=str(doc["model_id"]), subjects=subjects)

    def destroy(self, deployment_id: int, *, now: datetime) -> bool:
        """Crypto-shred the snapshot: destroy its key. The ciphertext may remain; it is noise now."""
        row = self._row(deployment_id)
        if row is None or row.destroyed_at is not None:
            return False
        self._v.destroy(row.key_id)
        row.destroyed_at = now
        self._s.flush()
        return True

    def live(self) -> list[SnapshotInfo]:
        q = select(SnapshotRow).where(SnapshotRow.destroyed_at.is_(None)).order_by(SnapshotRow.id)
        return [self._info(r) for r in self._s.scalars(q)]
