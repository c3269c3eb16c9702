"""Repositories, one per aggregate, working inside one transaction (a ``Session``).

Encryption happens here: callers pass and receive plaintext domain objects, rows hold only
sealed blobs whose associated data is (table, row id, schema version).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from overt.crypto.envelope import Aad
from overt.domain.deployments import Deployment, DeploymentCounters, DeploymentPlan, DeploymentState
from overt.domain.templates import Template
from overt.domain.users import Role, User
from overt.domain.watchlist import (
    Category,
    EntryDetails,
    EntryProvenance,
    SnapshotSubject,
    WatchlistEntry,
    WatchlistSnapshot,
)
from overt.errors import DecryptionError, InputError, KeyDestroyedError, NotFoundError
from overt.store.models import AlertRow, DeploymentRow, SnapshotRow, UserRow, WatchlistEntryRow
from overt.store.vault import Vault

# -- users -------------------------------------------------------------------------------------


def _user(row: UserRow) -> User:
    return User(id=row.id, name=row.name, role=Role(row.role), created_at=row.created_at, disabled=row.disabled)


class UserRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, name: str, role: Role, password_hash: str, *, created_by: str | None, now: datetime) -> User:
        if self._s.scalar(select(UserRow).where(UserRow.name == name)) is not None:
            raise InputError(f"user {name} already exists")
        row = UserRow(name=name, role=role.value, password_hash=password_hash, created_at=now, created_by=created_by)
        self._s.add(row)
        self._s.flush()
        return _user(row)

    def get_with_hash(self, name: str) -> tuple[User, str] | None:
        row = self._s.scalar(select(UserRow).where(UserRow.name == name))
        return None if row is None else (_user(row), row.password_hash)

    def set_password_hash(self, name: str, password_hash: str) -> None:
        row = self._s.scalar(select(UserRow).where(UserRow.name == name))
        if row is None:
            raise NotFoundError(f"no user {name}")
        row.password_hash = password_hash

    def find(self) -> list[User]:
        return [_user(r) for r in self._s.scalars(select(UserRow).order_by(UserRow.id))]

    def count(self) -> int:
        return int(self._s.scalar(select(func.count()).select_from(UserRow)) or 0)


# -- deployments ---------------------------------------------------------------------------------


def _deployment(row: DeploymentRow) -> Deployment:
    geofence = None
    if row.geofence_json:
        geofence = tuple((float(a), float(b)) for a, b in json.loads(row.geofence_json))
    plan = DeploymentPlan(
        purpose=row.purpose,
        legal_basis=row.legal_basis,
        place=row.place,
        planned_start=row.planned_start,
        planned_end=row.planned_end,
        criteria=row.criteria,
        categories=tuple(Category(c) for c in json.loads(row.categories)),
        min_similarity=row.min_similarity,
        threshold_justification=row.threshold_justification,
        notice_confirmed=row.notice_confirmed,
        geofence=geofence,
        calibration_profile=row.calibration_profile,
        expected_false_alerts_per_1000=row.expected_false_alerts_per_1000,
    )
    outcomes = json.loads(row.outcomes_json or "{}")
    counters = DeploymentCounters(
        faces_processed=row.faces_processed,
        alerts_raised=row.alerts_raised,
        alerts_true=row.alerts_true,
        alerts_false=row.alerts_false,
        engagements=row.engagements,
        outcomes=tuple(sorted((str(k), int(v)) for k, v in outcomes.items())),
    )
    return Deployment(
        id=row.id,
        state=DeploymentState(row.state),
        plan=plan,
        created_by=row.created_by,
        created_at=row.created_at,
        authorised_by=row.authorised_by,
        authorised_at=row.authorised_at,
        started_at=row.started_at,
        stopped_at=row.stopped_at,
        stop_reason=row.stop_reason,
        closed_at=row.closed_at,
        counters=counters,
    )


class DeploymentRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, plan: DeploymentPlan, *, created_by: str, now: datetime) -> Deployment:
        row = DeploymentRow(
            state=DeploymentState.DRAFT.value,
            purpose=plan.purpose,
            legal_basis=plan.legal_basis,
            place=plan.place,
            geofence_json=json.dumps(plan.geofence) if plan.geofence else None,
            planned_start=plan.planned_start,
            planned_end=plan.planned_end,
            criteria=plan.criteria,
            categories=json.dumps([c.value for c in plan.categories]),
            min_similarity=plan.min_similarity,
            threshold_justification=plan.threshold_justification,
            calibration_profile=plan.calibration_profile,
            expected_false_alerts_per_1000=plan.expected_false_alerts_per_1000,
            notice_confirmed=plan.notice_confirmed,
            created_by=created_by,
            created_at=now,
            faces_processed=0,
            alerts_raised=0,
            alerts_true=0,
            alerts_false=0,
            engagements=0,
            outcomes_json="{}",
        )
        self._s.add(row)
        self._s.flush()
        return _deployment(row)

    def _row(self, deployment_id: int) -> DeploymentRow:
        row = self._s.get(DeploymentRow, deployment_id)
        if row is None:
            raise NotFoundError(f"no deployment {deployment_id}")
        return row

    def get(self, deployment_id: int) -> Deployment:
        return _deployment(self._row(deployment_id))

    def save(self, d: Deployment) -> Deployment:
        """Persist a state transition (the plan is immutable except notice confirmation, and the
        threshold of a draft: domain ``Deployment.change_threshold`` guards that)."""
        row = self._row(d.id)
        if d.state is DeploymentState.DRAFT:
            row.min_similarity = d.plan.min_similarity
            row.threshold_justification = d.plan.threshold_justification
        row.state = d.state.value
        row.notice_confirmed = d.plan.notice_confirmed
        row.expected_false_alerts_per_1000 = d.plan.expected_false_alerts_per_1000
        row.authorised_by = d.authorised_by
        row.authorised_at = d.authorised_at
        row.started_at = d.started_at
        row.stopped_at = d.stopped_at
        row.stop_reason = d.stop_reason
        row.closed_at = d.closed_at
        self._s.flush()
        return _deployment(row)

    def find(self, state: DeploymentState | None = None) -> list[Deployment]:
        q = select(DeploymentRow).order_by(DeploymentRow.id)
        if state is not None:
            q = q.where(DeploymentRow.state == state.value)
        return [_deployment(r) for r in self._s.scalars(q)]

    def in_period(self, start: datetime, end: datetime) -> list[Deployment]:
        q = (
            select(DeploymentRow)
            .where(DeploymentRow.planned_start < end, DeploymentRow.planned_end > start)
            .order_by(DeploymentRow.planned_start)
        )
        return [_deployment(r) for r in self._s.scalars(q)]

    def add_faces_processed(self, deployment_id: int, n: int) -> None:
        if n < 0:
            raise InputError("faces processed must not be negative")
        row = self._row(deployment_id)
        row.faces_processed = row.faces_processed + n

    def count_alert(self, deployment_id: int) -> None:
        row = self._row(deployment_id)
        row.alerts_raised = row.alerts_raised + 1

    def count_adjudication(self, deployment_id: int, is_true: bool, engaged: bool, outcome: str | None) -> None:
        row = self._row(deployment_id)
        if is_true:
            row.alerts_true = row.alerts_true + 1
        else:
            row.alerts_false = row.alerts_false + 1
        if engaged:
            row.engagements = row.engagements + 1
        if outcome:
            outcomes = json.loads(row.outcomes_json or "{}")
            outcomes[outcome] = int(outcomes.get(outcome, 0)) + 1
            row.outcomes_json = json.dumps(outcomes, sort_keys=True)


# -- watch-list entries ----------------------------------------------------------------------------

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

    def remove(self, entry_id: int, *, by: str, now: datetime) -> None:
        """Remove an entry: its subject key is destroyed and its blobs dropped (a tombstone stays)."""
        row = self._row(entry_id)
        if row.removed_at is not None:
            raise InputError(f"watch-list entry {entry_id} was already removed")
        row.removed_at = now
        row.removed_by = by
        row.details_blob = None
        row.image_blob = None
        row.template_blob = None
        self._v.destroy(row.key_id)
        self._s.flush()


# -- snapshots -----------------------------------------------------------------------------------------


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


# -- alerts ----------------------------------------------------------------------------------------------

Verdict = Literal["true_match", "false_match"]


@dataclass(frozen=True, slots=True)
class StoredAlert:
    id: int
    deployment_id: int
    camera_id: str
    entry_id: int | None
    similarity: float
    track_id: str | None
    raised_at: datetime
    has_crop: bool
    adjudication: str | None
    engaged: bool | None
    outcome: str | None
    retained_until: datetime | None


def _alert(row: AlertRow) -> StoredAlert:
    return StoredAlert(
        id=row.id,
        deployment_id=row.deployment_id,
        camera_id=row.camera_id,
        entry_id=row.entry_id,
        similarity=row.similarity,
        track_id=row.track_id,
        raised_at=row.raised_at,
        has_crop=row.crop_blob is not None,
        adjudication=row.adjudication,
        engaged=row.engaged,
        outcome=row.outcome,
        retained_until=row.retained_until,
    )


class AlertRepository:
    """Alerts with their probe crop sealed under a per-alert key (deleting it shreds the crop)."""

    def __init__(self, session: Session, vault: Vault, deployments: DeploymentRepository) -> None:
        self._s = session
        self._v = vault
        self._d = deployments

    def add(
        self,
        *,
        deployment_id: int,
        camera_id: str,
        entry_id: int | None,
        similarity: float,
        raised_at: datetime,
        crop: bytes | None = None,
        track_id: str | None = None,
    ) -> StoredAlert:
        self._d.get(deployment_id)
        row = AlertRow(
            deployment_id=deployment_id,
            camera_id=camera_id,
            entry_id=entry_id,
            similarity=float(similarity),
            track_id=track_id,
            raised_at=raised_at,
        )
        self._s.add(row)
        self._s.flush()
        if crop is not None:
            row.key_id = self._v.create_key("alert")
            self._s.flush()
            row.crop_blob = self._v.seal(row.key_id, crop, Aad("alerts", str(row.id)))
        self._d.count_alert(deployment_id)
        self._s.flush()
        return _alert(row)

    def _row(self, alert_id: int) -> AlertRow:
        row = self._s.get(AlertRow, alert_id)
        if row is None:
            raise NotFoundError(f"no alert {alert_id}")
        return row

    def get(self, alert_id: int) -> StoredAlert:
        return _alert(self._row(alert_id))

    def crop(self, alert_id: int) -> bytes:
        row = self._row(alert_id)
        if row.crop_blob is None or row.key_id is None:
            raise DecryptionError(f"alert {alert_id} has no stored image")
        return self._v.open(row.key_id, row.crop_blob, Aad("alerts", str(alert_id)))

    def adjudicate(
        self,
        alert_id: int,
        verdict: Verdict,
        *,
        by: str,
        now: datetime,
        engaged: bool = False,
        outcome: str | None = None,
    ) -> StoredAlert:
        row = self._row(alert_id)
        if row.adjudication is not None:
            raise InputError(f"alert {alert_id} was already adjudicated ({row.adjudication})")
        if verdict not in ("true_match", "false_match"):
            raise InputError("verdict must be true_match or false_match")
        row.adjudication = verdict
        row.adjudicated_by = by
        row.adjudicated_at = now
        row.engaged = engaged
        row.outcome = outcome
        self._d.count_adjudication(row.deployment_id, verdict == "true_match", engaged, outcome)
        self._s.flush()
        return _alert(row)

    def retain(self, alert_id: int, *, reason: str, until: datetime) -> StoredAlert:
        if not reason.strip():
            raise InputError("retaining an alert as evidence needs a reason")
        row = self._row(alert_id)
        row.retained_until = until
        row.retention_reason = reason
        self._s.flush()
        return _alert(row)

    def find(self, deployment_id: int | None = None) -> list[StoredAlert]:
        q = select(AlertRow).order_by(AlertRow.id)
        if deployment_id is not None:
            q = q.where(AlertRow.deployment_id == deployment_id)
        return [_alert(r) for r in self._s.scalars(q)]

    def due_for_purge(self, now: datetime, retention: timedelta) -> list[StoredAlert]:
        q = select(AlertRow).where(AlertRow.raised_at <= now - retention).order_by(AlertRow.id)
        return [_alert(r) for r in self._s.scalars(q) if r.retained_until is None or r.retained_until <= now]

    def delete(self, alert_id: int) -> None:
        row = self._row(alert_id)
        key_id = row.key_id
        self._s.delete(row)
        self._s.flush()
        if key_id is not None:
            self._v.destroy(key_id)
