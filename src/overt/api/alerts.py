"""Alerts for the console: list, view (audited), adjudicate (optionally by two people), ingest.

Built on the store's :class:`~overt.store.repositories.AlertRepository` and audit log; the
pending first verdict of a two-person adjudication and the alert's quality details live in
the API's own tables (migration ``0002_api``).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from overt.api.schemas import AlertOut, IngestAlertIn, PendingOut, QualityOut
from overt.audit.log import AuditLog
from overt.domain.users import User
from overt.errors import GovernanceError, InputError, NotFoundError
from overt.store.alert_log import adjudicate_alert, record_alert, view_alert_crop
from overt.store.api_tables import AlertDetailsRow, AlertReviewRepository, AlertReviewRow
from overt.store.models import WatchlistEntryRow
from overt.store.repositories import AlertRepository, DeploymentRepository, StoredAlert, Verdict
from overt.store.store import Store
from overt.store.vault import Vault

JPEG_MAGIC = b"\xff\xd8"
ENGAGED = ("engaged", "arrested")


@dataclass
class _Ctx:
    s: Session
    alerts: AlertRepository
    deployments: DeploymentRepository
    audit: AuditLog
    reviews: AlertReviewRepository
    now: datetime


class AlertService:
    def __init__(self, store: Store, *, second_person: bool = False) -> None:
        self.store = store
        self.second_person = second_person

    def _ctx(self, s: Session) -> _Ctx:
        now = self.store.clock.now()
        vault = Vault(s, self.store.kek, now)
        deployments = DeploymentRepository(s)
        return _Ctx(
            s=s,
            alerts=AlertRepository(s, vault, deployments),
            deployments=deployments,
            audit=AuditLog(s, self.store.clock),
            reviews=AlertReviewRepository(s),
            now=now,
        )

    # -- views -----------------------------------------------------------------------------------

    def _out(self, c: _Ctx, a: StoredAlert, *, has_pending: bool = True) -> AlertOut:
        det = c.s.get(AlertDetailsRow, a.id)
        doc = json.loads(det.details_json) if det is not None else {}
        q = doc.get("quality") or {}
        category = None
        if a.entry_id is not None:
            row = c.s.get(WatchlistEntryRow, a.entry_id)
            category = row.category if row is not None else None
        pending = c.reviews.get(a.id) if has_pending else None
        return AlertOut(
            id=a.id,
            deployment_id=a.deployment_id,
            camera_id=a.camera_id,
            entry_id=a.entry_id,
            category=category,
            similarity=a.similarity,
            track_id=a.track_id,
            raised_at=a.raised_at,
            has_crop=a.has_crop,
            quality=QualityOut(**{k: q.get(k) for k in QualityOut.model_fields}),
            latency_ms=doc.get("latency_ms"),
            adjudication=a.adjudication,
            engaged=a.engaged,
            outcome=a.outcome,
            pending=None
            if pending is None
            else PendingOut(
                verdict=pending.verdict,
                engaged=pending.engaged,
                outcome=pending.outcome,
                proposed_by=pending.proposed_by,
                proposed_at=pending.proposed_at,
            ),
        )

    def list(self, *, deployment_id: int | None = None, open_only: bool = False, limit: int = 200) -> list[AlertOut]:
        with self.store.db.session() as s:
            c = self._ctx(s)
            found = c.alerts.find(deployment_id)
            if open_only:
                found = [a for a in found if a.adjudication is None]
            found = sorted(found, key=lambda a: a.id, reverse=True)[:limit]
            # load the related rows in three queries (the identity map then answers _out's lookups)
            ids = [a.id for a in found]
            entries = {a.entry_id for a in found if a.entry_id is not None}
            list(s.scalars(select(AlertDetailsRow).where(AlertDetailsRow.alert_id.in_(ids))))
            list(s.scalars(select(WatchlistEntryRow).where(WatchlistEntryRow.id.in_(entries))))
            pending = set(s.scalars(select(AlertReviewRow.alert_id).where(AlertReviewRow.alert_id.in_(ids))))
            return [self._out(c, a, has_pending=a.id in pending) for a in found]

    def get(self, alert_id: int) -> AlertOut:
        with self.store.db.session() as s:
            c = self._ctx(s)
            return self._out(c, c.alerts.get(alert_id))

    def crop(self, user: User, alert_id: int) -> bytes:
        """The probe crop, decrypted; the view is audited (governed path in ``store.alert_log``)."""
        return view_alert_crop(self.store, user, alert_id)

    def watchlist_image(self, actor: str, alert_id: int) -> bytes:
        """The watch-list image of the matched entry (for adjudication); audited."""
        with self.store.db.session() as s:
            c = self._ctx(s)
            a = c.alerts.get(alert_id)
            if a.entry_id is None:
                raise NotFoundError(f"alert {alert_id} names no watch-list entry")
            from overt.store.repositories import WatchlistRepository

            data = WatchlistRepository(s, Vault(s, self.store.kek, c.now)).image(a.entry_id)
            c.audit.append(actor, "watchlist.image_viewed", f"entry:{a.entry_id}", {"alert": alert_id})
            return data

    # -- adjudication --------------------------------------------------------------------------------

    def adjudicate(self, user: User, alert_id: int, verdict: str, outcome: str | None) -> tuple[AlertOut, bool]:
        """Record a verdict. With two-person confirmation on, a true match counts only once a
        second operator agrees; a second person who disagrees sends it back to open."""
        if verdict not in ("true_match", "false_match"):
            raise InputError("verdict must be true_match or false_match")
        if verdict == "false_match" and outcome not in (None, "no_action"):
            raise InputError("a false alert has no outcome other than no_action")
        v: Verdict = "true_match" if verdict == "true_match" else "false_match"
        with self.store.db.session() as s:
            c = self._ctx(s)
            a = c.alerts.get(alert_id)
            if a.adjudication is not None:
                raise InputError(f"alert {alert_id} was already adjudicated ({a.adjudication})")
            pending = c.reviews.get(alert_id)
            if pending is None and self.second_person and v == "true_match":
                c.reviews.propose(alert_id, v, engaged=outcome in ENGAGED, outcome=outcome, by=user.name, now=c.now)
                c.audit.append(user.name, "alert.verdict_proposed", f"alert:{alert_id}", {"verdict": v})
                return self._out(c, c.alerts.get(alert_id)), False
            if pending is not None:
                if pending.proposed_by == user.name:
                    raise GovernanceError("a second person must confirm this verdict (you proposed it)")
                c.reviews.clear(alert_id)
                if pending.verdict != v:
                    c.audit.append(
                        user.name, "alert.verdict_disputed", f"alert:{alert_id}", {"proposed": pending.verdict}
                    )
                    return self._out(c, c.alerts.get(alert_id)), False
                outcome = outcome or pending.outcome
                c.audit.append(
                    user.name, "alert.verdict_confirmed", f"alert:{alert_id}", {"proposed_by": pending.proposed_by}
                )
        adjudicate_alert(self.store, user, alert_id, v, engaged=outcome in ENGAGED, outcome=outcome)
        return self.get(alert_id), True

    # -- ingest ------------------------------------------------------------------------------------

    def ingest(self, actor: str, deployment_id: int, body: IngestAlertIn) -> tuple[int, bool]:
        """Store an alert from a pipeline (local or edge). Returns (alert id, was it a duplicate)."""
        crop: bytes | None = None
        if body.probe_crop_jpeg_b64:
            try:
                crop = base64.b64decode(body.probe_crop_jpeg_b64, validate=True)
            except (binascii.Error, ValueError):
                raise InputError("probe_crop_jpeg_b64 is not base64") from None
            if not crop.startswith(JPEG_MAGIC):
                raise InputError("probe_crop_jpeg_b64 is not a JPEG image")
        if body.alerted_at.tzinfo is None:
            raise InputError("alerted_at needs a timezone")
        try:
            entry_id: int | None = int(body.subject)
        except ValueError:
            entry_id = None
        with self.store.db.session() as s:
            dup = s.scalar(select(AlertDetailsRow.alert_id).where(AlertDetailsRow.remote_id == body.alert_id))
        if dup is not None:
            return int(dup), True
        a = record_alert(  # refuses a deployment that is not active; seals the crop; audits
            self.store,
            deployment_id=deployment_id,
            camera_id=body.camera,
            entry_id=entry_id,
            similarity=body.similarity,
            raised_at=body.alerted_at,
            crop_jpeg=crop,
            track_id=str(body.track_id),
        )
        doc = {
            "quality": body.quality.model_dump() if body.quality else None,
            "latency_ms": body.latency_ms,
            "frame_index": body.frame_index,
            "source": actor,
        }
        with self.store.db.session() as s:
            s.add(AlertDetailsRow(alert_id=a.id, remote_id=body.alert_id, details_json=json.dumps(doc)))
        return a.id, False
