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
from overt.api.tables import AlertDetailsRow, AlertReviewRepository
from overt.audit.log import AuditLog
from overt.domain.deployments import DeploymentState
from overt.domain.users import User
from overt.errors import GovernanceError, InputError, NotFoundError
from overt.store.models import WatchlistEntryRow
from overt.store.repositories import AlertRepository, DeploymentRepository, StoredAlert
from overt.store.store import Store
from overt.store.vault import Vault

JPEG_MAGIC = b"\xff\xd8"


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

    def _out(self, c: _Ctx, a: StoredAlert) -> AlertOut:
        det = c.s.get(AlertDetailsRow, a.id)
        doc = json.loads(det.details_json) if det is not None else {}
        q = doc.get("quality") or {}
        category = None
        if a.entry_id is not None:
            row = c.s.get(WatchlistEntryRow, a.entry_id)
            category = row.category if row is not None else None
        pending = c.reviews.get(a.id)
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
            return [self._out(c, a) for a in found]

    def get(self, alert_id: int) -> AlertOut:
        with self.store.db.session() as s:
            c = self._ctx(s)
            return self._out(c, c.alerts.get(alert_id))

    def crop(self, actor: str, alert_id: int) -> bytes:
        """The probe crop, decrypted; the view is audited in the same transaction."""
        with self.store.db.session() as s:
            c = self._ctx(s)
            data = c.alerts.crop(alert_id)
            c.audit.append(actor, "alert.viewed", f"alert:{alert_id}", {"image": "probe"})
            return data

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
        engaged = outcome in ("engaged", "arrested")
        with self.store.db.session() as s:
            c = self._ctx(s)
            a = c.alerts.get(alert_id)
            if a.adjudication is not None:
                raise InputError(f"alert {alert_id} was already adjudicated ({a.adjudication})")
            pending = c.reviews.get(alert_id)
            counted = True
            if pending is not None:
                if pending.proposed_by == user.name:
                    raise GovernanceError("a second person must confirm this verdict (you proposed it)")
                if pending.verdict != verdict:
                    c.reviews.clear(alert_id)
                    c.audit.append(
                        user.name, "alert.verdict_disputed", f"alert:{alert_id}", {"proposed": pending.verdict}
                    )
                    return self._out(c, c.alerts.get(alert_id)), False
                c.reviews.clear(alert_id)
                outcome = outcome or pending.outcome
                engaged = outcome in ("engaged", "arrested")
                c.alerts.adjudicate(alert_id, verdict, by=user.name, now=c.now, engaged=engaged, outcome=outcome)  # type: ignore[arg-type]
                c.audit.append(
                    user.name,
                    "alert.adjudicated",
                    f"alert:{alert_id}",
                    {"verdict": verdict, "outcome": outcome, "confirms": pending.proposed_by},
                )
            elif self.second_person and verdict == "true_match":
                c.reviews.propose(alert_id, verdict, engaged=engaged, outcome=outcome, by=user.name, now=c.now)
                c.audit.append(user.name, "alert.verdict_proposed", f"alert:{alert_id}", {"verdict": verdict})
                counted = False
            else:
                c.alerts.adjudicate(alert_id, verdict, by=user.name, now=c.now, engaged=engaged, outcome=outcome)  # type: ignore[arg-type]
                c.audit.append(
                    user.name, "alert.adjudicated", f"alert:{alert_id}", {"verdict": verdict, "outcome": outcome}
                )
            return self._out(c, c.alerts.get(alert_id)), counted

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
            c = self._ctx(s)
            d = c.deployments.get(deployment_id)
            # Keep a late alert (decided while the deployment ran, delivered after): the audit says so.
            late = d.state is not DeploymentState.ACTIVE
            a = c.alerts.add(
                deployment_id=deployment_id,
                camera_id=body.camera,
                entry_id=entry_id,
                similarity=body.similarity,
                raised_at=body.alerted_at,
                crop=crop,
                track_id=str(body.track_id),
            )
            doc = {
                "quality": body.quality.model_dump() if body.quality else None,
                "latency_ms": body.latency_ms,
                "frame_index": body.frame_index,
            }
            s.add(AlertDetailsRow(alert_id=a.id, remote_id=body.alert_id, details_json=json.dumps(doc)))
            c.audit.append(
                actor,
                "alert.raised",
                f"alert:{a.id}",
                {
                    "deployment": deployment_id,
                    "camera": body.camera,
                    "similarity": round(body.similarity, 4),
                    "late": late,
                },
            )
            return a.id, False
