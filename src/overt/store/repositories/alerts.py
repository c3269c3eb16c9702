"""Alerts (crop and scene frame sealed under a per-alert key), their details and pending second-person reviews."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from overt.crypto.envelope import Aad
from overt.errors import DecryptionError, InputError, NotFoundError
from overt.store.models import (
    AlertDetailsRow,
    AlertEventRow,
    AlertEvidenceRow,
    AlertReviewRow,
    AlertRow,
    AlertSceneRow,
)
from overt.store.repositories.deployments import DeploymentRepository
from overt.store.vault import Vault

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
        scene: bytes | None = None,
    ) -> StoredAlert:
        """``crop`` and ``scene`` (the redacted scene frame) are sealed under a new per-alert key."""
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
        if crop is not None or scene is not None:
            row.key_id = self._v.create_key("alert")
            self._s.flush()
        if crop is not None and row.key_id is not None:
            row.crop_blob = self._v.seal(row.key_id, crop, Aad("alerts", str(row.id)))
        if scene is not None and row.key_id is not None:
            self._s.add(AlertSceneRow(alert_id=row.id, blob=self._v.seal(row.key_id, scene, _scene_aad(row.id))))
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

    def scene(self, alert_id: int) -> bytes:
        """The redacted scene frame, decrypted; NotFoundError when the alert has none."""
        row = self._row(alert_id)
        scene = self._s.get(AlertSceneRow, alert_id)
        if scene is None:
            raise NotFoundError(f"alert {alert_id} has no scene frame")
        if row.key_id is None:
            raise DecryptionError(f"alert {alert_id}'s scene frame key is gone")
        return self._v.open(row.key_id, scene.blob, _scene_aad(alert_id))

    def with_scene(self, alert_ids: list[int]) -> set[int]:
        """Which of ``alert_ids`` have a stored scene frame (one query; nothing decrypted)."""
        if not alert_ids:
            return set()
        return set(self._s.scalars(select(AlertSceneRow.alert_id).where(AlertSceneRow.alert_id.in_(alert_ids))))

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

    def newest(
        self,
        *,
        deployment_id: int | None = None,
        after_id: int | None = None,
        limit: int | None = 200,
    ) -> list[StoredAlert]:
        """Newest first, filtered and limited by the database (a console polls this every few seconds)."""
        q = select(AlertRow).order_by(AlertRow.id.desc()).limit(limit)
        if deployment_id is not None:
            q = q.where(AlertRow.deployment_id == deployment_id)
        if after_id is not None:
            q = q.where(AlertRow.id > after_id)
        return [_alert(r) for r in self._s.scalars(q)]

    def by_ids(self, alert_ids: Sequence[int]) -> list[StoredAlert]:
        """These alerts (those that exist), by id."""
        return [_alert(r) for r in self._s.scalars(select(AlertRow).where(AlertRow.id.in_(list(alert_ids))))]

    def due_for_purge(self, now: datetime, retention: timedelta) -> list[StoredAlert]:
        q = select(AlertRow).where(AlertRow.raised_at <= now - retention).order_by(AlertRow.id)
        return [_alert(r) for r in self._s.scalars(q) if r.retained_until is None or r.retained_until <= now]

    def delete(self, alert_id: int) -> None:
        row = self._row(alert_id)
        key_id = row.key_id
        # Rows keyed by the alert id go with it: SQLite reuses the highest freed id, and a stale
        # details row would then refuse the next alert (found by tests/api/test_signed_ingest.py).
        for table in (AlertEventRow, AlertEvidenceRow, AlertSceneRow, AlertDetailsRow, AlertReviewRow):
            self._s.execute(delete(table).where(table.alert_id == alert_id))
        self._s.delete(row)
        self._s.flush()
        if key_id is not None:
            self._v.destroy(key_id)


def _scene_aad(alert_id: int) -> Aad:
    return Aad("alert_scenes", str(alert_id))


@dataclass(frozen=True, slots=True)
class PendingReview:
    alert_id: int
    verdict: str
    engaged: bool
    outcome: str | None
    proposed_by: str
    proposed_at: datetime


class AlertReviewRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, alert_id: int) -> PendingReview | None:
        row = self._s.get(AlertReviewRow, alert_id)
        if row is None:
            return None
        return PendingReview(row.alert_id, row.verdict, row.engaged, row.outcome, row.proposed_by, row.proposed_at)

    def propose(
        self, alert_id: int, verdict: str, *, engaged: bool, outcome: str | None, by: str, now: datetime
    ) -> PendingReview:
        if self._s.get(AlertReviewRow, alert_id) is not None:
            raise InputError(f"alert {alert_id} already awaits a second person's confirmation")
        row = AlertReviewRow(
            alert_id=alert_id, verdict=verdict, engaged=engaged, outcome=outcome, proposed_by=by, proposed_at=now
        )
        self._s.add(row)
        self._s.flush()
        return PendingReview(alert_id, verdict, engaged, outcome, by, now)

    def clear(self, alert_id: int) -> None:
        row = self._s.get(AlertReviewRow, alert_id)
        if row is not None:
            self._s.delete(row)
            self._s.flush()


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """A later step on an alert: ``kind`` outcome, correction or retained. Nothing biometric."""

    id: int
    alert_id: int
    kind: str
    value: str
    by: str
    at: datetime


class AlertEventRepository:
    """Later steps on alerts: appended, never edited."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def append(self, alert_id: int, kind: str, value: str, *, by: str, at: datetime) -> AlertEvent:
        row = AlertEventRow(alert_id=alert_id, kind=kind, value=value, by=by, at=at)
        self._s.add(row)
        self._s.flush()
        return AlertEvent(row.id, alert_id, kind, value, by, at)

    def for_alerts(self, alert_ids: list[int]) -> dict[int, list[AlertEvent]]:
        out: dict[int, list[AlertEvent]] = {}
        if not alert_ids:
            return out
        q = select(AlertEventRow).where(AlertEventRow.alert_id.in_(alert_ids)).order_by(AlertEventRow.id)
        for r in self._s.scalars(q):
            out.setdefault(r.alert_id, []).append(AlertEvent(r.id, r.alert_id, r.kind, r.value, r.by, r.at))
        return out
