"""Watch-list entries: details, image and template sealed under a per-entry key."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import date, datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from overt.crypto.envelope import Aad
from overt.domain.templates import Template
from overt.domain.watchlist import (
    Category,
    EntryDetails,
    EntryProvenance,
    SnapshotSubject,
    WatchlistEntry,
)
from overt.errors import InputError, KeyDestroyedError, NotFoundError
from overt.store.models import WatchlistEntryRow
from overt.store.vault import Vault

ENTRIES = "watchlist_entries"


def template_to_bytes(t: Template) -> bytes:
    return np.ascontiguousarray(t.vector, dtype="<f4").tobytes()


def template_from_bytes(data: bytes, model_id: str) -> Template:
    return Template(np.frombuffer(data, dtype="<f4").copy(), model_id)


class WatchlistRepository:
    def __init__(self, session: Session, vault: Vault) -> None:
        self._s = session
        self._v = vault

    def _row(self, entry_id: int) -> WatchlistEntryRow:
        row = self._s.get(WatchlistEntryRow, entry_id)
        if row is None:
            raise NotFoundError(f"no watch-list entry {entry_id}")
        return row

    def ref_exists(self, subject_ref: str) -> bool:
        idx = self._v.blind_index(subject_ref)
        q = select(WatchlistEntryRow.id).where(
            WatchlistEntryRow.ref_index == idx, WatchlistEntryRow.removed_at.is_(None)
        )
        return self._s.scalar(q) is not None

    def add(
        self,
        details: EntryDetails,
        prov: EntryProvenance,
        *,
        image: bytes,
        template: Template,
        added_by: str,
        now: datetime,
    ) -> int:
        if self.ref_exists(details.subject_ref):
            raise InputError("duplicate subject reference: an active entry already uses it (remove it first)")
        key_id = self._v.create_key("subject")
        row = WatchlistEntryRow(
            ref_index=self._v.blind_index(details.subject_ref),
            category=prov.category.value,
            legal_basis=prov.legal_basis,
            taken_on=prov.taken_on,
            review_on=prov.review_on,
            under_18=prov.under_18,
            added_by=added_by,
            added_at=now,
            key_id=key_id,
            model_id=template.model_id,
        )
        self._s.add(row)
        self._s.flush()
        rid = str(row.id)
        doc = {
            "subject_ref": details.subject_ref.strip(),
            "reason": details.reason,
            "image_source": details.image_source,
            "under_18_reason": details.under_18_reason,
        }
        row.details_blob = self._v.seal(key_id, json.dumps(doc).encode(), Aad(ENTRIES, rid + "/details"))
        row.image_blob = self._v.seal(key_id, image, Aad(ENTRIES, rid + "/image"))
        row.template_blob = self._v.seal(key_id, template_to_bytes(template), Aad(ENTRIES, rid + "/template"))
        self._s.flush()
        return row.id

    def _entry(self, row: WatchlistEntryRow) -> WatchlistEntry:
        prov = EntryProvenance(
            category=Category(row.category),
            legal_basis=row.legal_basis,
            taken_on=row.taken_on,
            review_on=row.review_on,
            under_18=row.under_18,
        )
        if row.details_blob is None or self._v.is_destroyed(row.key_id):
            details = EntryDetails("<destroyed>", "<destroyed>", "<destroyed>")
        else:
            doc = json.loads(self._v.open(row.key_id, row.details_blob, Aad(ENTRIES, f"{row.id}/details")))
            details = EntryDetails(doc["subject_ref"], doc["reason"], doc["image_source"], doc.get("under_18_reason"))
        return WatchlistEntry(
            id=row.id,
            details=details,
            provenance=prov,
            added_by=row.added_by,
            added_at=row.added_at,
            model_id=row.model_id,
            removed_at=row.removed_at,
        )

    def get(self, entry_id: int) -> WatchlistEntry:
        return self._entry(self._row(entry_id))

    def image(self, entry_id: int) -> bytes:
        row = self._row(entry_id)
        if row.image_blob is None:
            raise KeyDestroyedError(f"watch-list entry {entry_id} was removed; its image is destroyed")
        return self._v.open(row.key_id, row.image_blob, Aad(ENTRIES, f"{entry_id}/image"))

    def template(self, entry_id: int) -> Template:
        row = self._row(entry_id)
        if row.template_blob is None:
            raise KeyDestroyedError(f"watch-list entry {entry_id} was removed; its template is destroyed")
        data = self._v.open(row.key_id, row.template_blob, Aad(ENTRIES, f"{entry_id}/template"))
        return template_from_bytes(data, row.model_id)

    def find(self, *, active_only: bool = True) -> list[WatchlistEntry]:
        q = select(WatchlistEntryRow).order_by(WatchlistEntryRow.id)
        if active_only:
            q = q.where(WatchlistEntryRow.removed_at.is_(None))
        return [self._entry(r) for r in self._s.scalars(q)]

    def active_ids(self, categories: tuple[Category, ...] | None = None) -> list[int]:
        q = select(WatchlistEntryRow.id).where(WatchlistEntryRow.removed_at.is_(None)).order_by(WatchlistEntryRow.id)
        if categories is not None:
            q = q.where(WatchlistEntryRow.category.in_([c.value for c in categories]))
        return list(self._s.scalars(q))

    def active_subjects(
        self, categories: tuple[Category, ...] | None = None, *, reviewed_after: date | None = None
    ) -> list[SnapshotSubject]:
        """Decrypted (entry id, reference, category, template) of active entries, in one query.

        ``reviewed_after``: only entries whose review date is after it (not overdue).
        """
        q = select(WatchlistEntryRow).where(WatchlistEntryRow.removed_at.is_(None)).order_by(WatchlistEntryRow.id)
        if reviewed_after is not None:
            q = q.where(WatchlistEntryRow.review_on > reviewed_after)
        if categories is not None:
            q = q.where(WatchlistEntryRow.category.in_([c.value for c in categories]))
        out = []
        for row in self._s.scalars(q):
            if row.details_blob is None or row.template_blob is None:
                raise KeyDestroyedError(f"watch-list entry {row.id} has lost its data")
            doc = json.loads(self._v.open(row.key_id, row.details_blob, Aad(ENTRIES, f"{row.id}/details")))
            data = self._v.open(row.key_id, row.template_blob, Aad(ENTRIES, f"{row.id}/template"))
            out.append(
                SnapshotSubject(
                    row.id, doc["subject_ref"], Category(row.category), template_from_bytes(data, row.model_id)
                )
            )
        return out

    def due_for_review(self, today: date) -> list[WatchlistEntry]:
        q = (
            select(WatchlistEntryRow)
            .where(WatchlistEntryRow.removed_at.is_(None), WatchlistEntryRow.review_on <= today)
            .order_by(WatchlistEntryRow.review_on)
        )
        return [self._entry(r) for r in self._s.scalars(q)]

    def remove(self, entry_id: int, *, by: str, now: datetime, reason: str) -> None:
        """Remove an entry: its subject key is destroyed and its blobs dropped (a tombstone stays).

        The reason is kept, sealed under a key of its own and bound to this row.
        """
        row = self._row(entry_id)
        if row.removed_at is not None:
            raise InputError(f"watch-list entry {entry_id} was already removed")
        row.removed_at = now
        row.removed_by = by
        row.details_blob = None
        row.image_blob = None
        row.template_blob = None
        self._v.destroy(row.key_id)
        row.removal_key_id = self._v.create_key("removal")
        row.removal_reason_blob = self._v.seal(
            row.removal_key_id, reason.encode("utf-8"), Aad(ENTRIES, f"{entry_id}/removal_reason")
        )
        self._s.flush()

    def removal_reason(self, entry_id: int) -> str | None:
        """The sealed reason given when the entry was removed (None if it was not removed)."""
        row = self._row(entry_id)
        if row.removal_key_id is None or row.removal_reason_blob is None:
            return None
        aad = Aad(ENTRIES, f"{entry_id}/removal_reason")
        return self._v.open(row.removal_key_id, row.removal_reason_blob, aad).decode("utf-8")

    def removed_among(self, entry_ids: Collection[int]) -> dict[int, datetime]:
        """Tombstones: which of ``entry_ids`` were removed, and when."""
        if not entry_ids:
            return {}
        q = select(WatchlistEntryRow.id, WatchlistEntryRow.removed_at).where(
            WatchlistEntryRow.id.in_(list(entry_ids)), WatchlistEntryRow.removed_at.is_not(None)
        )
        return {int(i): at for i, at in self._s.execute(q) if at is not None}
