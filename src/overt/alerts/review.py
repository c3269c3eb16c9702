"""Alert review, the one home of its rules: record, view (audited), adjudicate (two-person rule), ingest.

The API routes, the CLI (``overt alert ...``) and the pipeline's store sink all call this service,
so they cannot disagree. ``record`` refuses alerts for a deployment that is not active (the
deployment's time rules are applied first), seals the probe crop under a per-alert key and writes
an ``alert.raised`` audit entry with ids and the similarity only. ``ingest`` does all of that and
stores the alert's details in ONE transaction, idempotent on the sender's alert id.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from overt.alerts.ingest_checks import DeviceAlertClaim, IngestRejectedError, check_claim, check_images, reject
from overt.alerts.ingest_evidence import IngestedEvidence, audit_ingested, check_ingest, seal_ingested
from overt.alerts.verdicts import ENGAGED, Decision, effective, standing, verdict_value
from overt.deployments.service import DeploymentService
from overt.deployments.service import due as deployment_tick_due
from overt.domain.alerts import Alert, PadResult, SignedEvidence
from overt.domain.deployments import DeploymentState
from overt.domain.leases import Fence
from overt.domain.users import Permission, User
from overt.errors import GovernanceError, InputError, NotFoundError
from overt.store.models import AlertDetailsRow, AlertReviewRow, AlertRow, WatchlistEntryRow
from overt.store.repositories import (
    AlertEvent,
    AlertEventRepository,
    LeaseRepository,
    PendingReview,
    StoredAlert,
    Verdict,
)
from overt.store.store import Store, Tx


@dataclass(frozen=True, slots=True)
class AlertQuality:
    """Face quality of the probe, as measured by the pipeline (absent for alerts without it)."""

    size_px: float | None = None
    det_score: float | None = None
    sharpness: float | None = None
    yaw_deg: float | None = None
    roll_deg: float | None = None


@dataclass(frozen=True, slots=True)
class AlertView:
    """What a reviewer sees of one alert (no image)."""

    id: int
    deployment_id: int
    camera_id: str
    entry_id: int | None
    category: str | None
    similarity: float
    track_id: str | None
    raised_at: datetime
    has_crop: bool
    quality: AlertQuality
    latency_ms: float | None
    adjudication: str | None
    engaged: bool | None
    outcome: str | None
    pending: PendingReview | None
    adjudicated_by: str | None = None
    adjudicated_at: datetime | None = None
    retained_until: datetime | None = None
    sightings: int = 1
    """Alerts of this deployment naming the same entry (repeat sightings)."""
    events: tuple[AlertEvent, ...] = ()
    """Later outcomes, corrections, undos and retention (``alerts.followups``), oldest first."""
    has_scene: bool = False
    """A redacted scene frame is stored (``AlertService.scene``)."""
    integrity_flags: tuple[str, ...] = ()
    """The camera stream's integrity flags when the alert was raised (``frozen``, ``loop``...)."""
    pad: PadResult | None = None
    """The presentation-attack (liveness) verdict on the face, when PAD ran."""
    undo_until: datetime | None = None
    """Until when the verdict (or the proposal) may be undone by the person who made it."""
    as_of: datetime | None = None
    """When this view began to be read (server clock): of two views of one alert, the later is newer."""


@dataclass(frozen=True, slots=True)
class IncomingAlert:
    """An alert from a pipeline (this machine's or an edge node's), ready to be stored.

    ``remote_id`` is the sender's alert UUID: storing the same one twice returns the first.
    """

    remote_id: str
    camera_id: str
    entry_id: int | None
    similarity: float
    track_id: str
    raised_at: datetime
    crop_jpeg: bytes | None = None
    context_jpeg: bytes | None = None
    """The redacted frame thumbnail the live view shows (checked like the crop, kept in memory only)."""
    scene_jpeg: bytes | None = None
    """The redacted scene frame for the card (checked like the crop, sealed with the alert)."""
    quality: AlertQuality | None = None
    latency_ms: float | None = None
    frame_index: int | None = None
    integrity_flags: tuple[str, ...] = ()
    pad: PadResult | None = None
    evidence: SignedEvidence | None = None
    """The sender's signature of the alert (checked at ingest, stored for export)."""

    def __post_init__(self) -> None:
        if not self.remote_id:
            raise InputError("an alert needs its sender's alert id")
        if self.raised_at.tzinfo is None:
            raise InputError("alerted_at needs a timezone")

    @classmethod
    def from_alert(cls, alert: Alert) -> IncomingAlert:
        """The pipeline's alert (same machine)."""
        q = alert.quality
        return cls(
            remote_id=alert.alert_id,
            camera_id=alert.camera_id,
            entry_id=entry_id_of(alert.subject),
            similarity=round(alert.similarity, 4),
            track_id=str(alert.track_id),
            raised_at=alert.alerted_at,
            crop_jpeg=alert.probe_crop_jpeg,
            quality=AlertQuality(q.size_px, q.det_score, q.sharpness, q.yaw_deg, q.roll_deg),
            latency_ms=round(alert.latency_ms, 1),
            frame_index=alert.frame_index,
            context_jpeg=alert.context_jpeg,
            scene_jpeg=alert.scene_jpeg,
            integrity_flags=alert.integrity_flags,
            pad=alert.pad,
            evidence=alert.evidence,
        )


def entry_id_of(subject: str) -> int | None:
    """A snapshot's subject is its watch-list entry id (other galleries may name subjects freely)."""
    try:
        return int(subject)
    except ValueError:
        return None


class AlertService:
    """Alert review for one store. A true match counts only once a second operator agrees when the
    data directory's policy says so or ``second_person`` is given (a caller can add the rule, never drop it)."""

    def __init__(self, store: Store, *, second_person: bool = False) -> None:
        self.store = store
        self.second_person = second_person or store.policy.second_person_confirmation

    # -- recording ---------------------------------------------------------------------------------

    @staticmethod
    def _record(
        tx: Tx,
        deployment_id: int,
        *,
        camera_id: str,
        entry_id: int | None,
        similarity: float,
        raised_at: datetime,
        crop_jpeg: bytes | None,
        track_id: str | None,
        actor: str = "system",
        scene_jpeg: bytes | None = None,
        audit: bool = True,
    ) -> StoredAlert:
        d = tx.deployments.get(deployment_id)
        if d.state is not DeploymentState.ACTIVE:
            raise GovernanceError(f"deployment {deployment_id} is {d.state.value}; alerts are refused")
        stored = tx.alerts.add(
            deployment_id=deployment_id,
            camera_id=camera_id,
            entry_id=entry_id,
            similarity=similarity,
            raised_at=raised_at,
            crop=crop_jpeg,
            track_id=track_id,
            scene=scene_jpeg,
        )
        if audit:
            _audit_raised(tx, stored, actor)
        return stored

    def record(
        self,
        *,
        deployment_id: int,
        camera_id: str,
        entry_id: int | None,
        similarity: float,
        raised_at: datetime,
        crop_jpeg: bytes | None = None,
        track_id: str | None = None,
    ) -> StoredAlert:
        """Store an alert without sender id or details; refused unless the deployment is active."""
        DeploymentService(self.store).tick()
        with self.store.transaction() as tx:
            return self._record(
                tx,
                deployment_id,
                camera_id=camera_id,
                entry_id=entry_id,
                similarity=similarity,
                raised_at=raised_at,
                crop_jpeg=crop_jpeg,
                track_id=track_id,
            )

    def ingest(
        self,
        actor: str,
        deployment_id: int,
        alert: IncomingAlert,
        *,
        token_id: int | None = None,
        local: bool = False,
        fence: Fence | None = None,
    ) -> tuple[int, bool]:
        """Store an alert from a pipeline (local or edge): the alert, its sealed crop, its details and
        its audit entry commit together or not at all. Returns (alert id, was it a duplicate):
        re-sending the same ``remote_id`` returns the stored alert and stores nothing. Everything
        the sender says that the server can check is checked first (``alerts.ingest_checks``); the
        alert is audited as ``actor`` (the device), a reject too, with ``token_id``. Signed evidence
        is checked against the device token's registered key (``local``: this node's key); a device
        with a registered key must sign (``alerts.ingest_evidence``). ``fence``: a leading worker's
        fencing token, checked against the lease in the same transaction (a stale one raises
        :class:`~overt.errors.StaleLeaseError` and nothing is stored)."""
        claim = claim_of(deployment_id, alert)
        try:
            check_images(claim)  # pixels decoded before any transaction: no lock held meanwhile
        except IngestRejectedError as exc:
            reject(self.store, claim, exc, actor=actor, token_id=token_id)
            raise
        # a local alert is checked against this node's key, which has a session of its own
        ingested = self._evidence(alert, token_id, local=True) if local else None
        doc = {
            "quality": None if alert.quality is None else _quality_dict(alert.quality),
            "latency_ms": alert.latency_ms,
            "frame_index": alert.frame_index,
            "source": actor,
            "integrity_flags": list(alert.integrity_flags),
            "pad": None
            if alert.pad is None
            else {"backend": alert.pad.backend, "score": alert.pad.score, "live": alert.pad.live},
        }
        if fence is not None:
            doc["lease_epoch"] = fence.token  # which tenure of the deployment's lease wrote it
        try:
            try:
                return self._ingest_tx(
                    actor, alert, claim, doc, token_id, ingested, local=local, ticked=False, fence=fence
                )
            except _TickDueError:  # a deployment is due to stop or a snapshot to shred: that commits first
                DeploymentService(self.store).tick()
                return self._ingest_tx(
                    actor, alert, claim, doc, token_id, ingested, local=local, ticked=True, fence=fence
                )
        except IntegrityError:
            # another process stored the same alert between our check and our insert: ours rolled back
            with self.store.db.session() as s:
                dup = _by_remote_id(s, alert.remote_id)
            if dup is None:
                raise
            return dup, True

    def _evidence(
        self, alert: IncomingAlert, token_id: int | None, *, local: bool, session: Session | None = None
    ) -> IngestedEvidence | None:
        return check_ingest(
            self.store,
            remote_alert_id=alert.remote_id,
            evidence=alert.evidence,
            crop_jpeg=alert.crop_jpeg,
            context_jpeg=alert.context_jpeg,
            scene_jpeg=alert.scene_jpeg,
            token_id=token_id,
            local=local,
            session=session,
        )

    def _ingest_tx(
        self,
        actor: str,
        alert: IncomingAlert,
        claim: DeviceAlertClaim,
        doc: dict[str, Any],
        token_id: int | None,
        ingested: IngestedEvidence | None,
        *,
        local: bool,
        ticked: bool,
        fence: Fence | None,
    ) -> tuple[int, bool]:
        """The checks that read the database, the duplicate check and the insert: ONE transaction
        (it was seven per alert). The deployment tick's stop and shredding must persist even when
        the alert is then refused, so when one is due the transaction is abandoned (nothing
        written) and the tick commits on its own first (:class:`_TickDueError`)."""
        try:
            with self.store.transaction() as tx:
                if fence is not None:
                    LeaseRepository(tx.session).check_fence(fence)  # locks the lease row until commit
                if not ticked and deployment_tick_due(tx):
                    raise _TickDueError
                check_claim(tx, claim, tx.clock.now())
                if not local:
                    ingested = self._evidence(alert, token_id, local=False, session=tx.session)
                dup = _by_remote_id(tx.session, alert.remote_id)
                if dup is not None:
                    return dup, True
                stored = self._record(
                    tx,
                    claim.deployment_id,
                    camera_id=alert.camera_id,
                    entry_id=alert.entry_id,
                    similarity=alert.similarity,
                    raised_at=alert.raised_at,
                    crop_jpeg=alert.crop_jpeg,
                    track_id=alert.track_id,
                    actor=actor,
                    scene_jpeg=alert.scene_jpeg,
                    audit=False,
                )
                tx.session.add(
                    AlertDetailsRow(alert_id=stored.id, remote_id=alert.remote_id, details_json=json.dumps(doc))
                )
                tx.session.flush()
                if ingested is not None:
                    seal_ingested(tx, stored.id, ingested)
                # the audit entries last: the chain's lock is held from the first append to the commit
                _audit_raised(tx, stored, actor)
                if ingested is not None:
                    audit_ingested(tx, stored.id, ingested)
                return stored.id, False
        except IngestRejectedError as exc:  # rolled back; the reject is audited on its own
            reject(self.store, claim, exc, actor=actor, token_id=token_id)
            raise

    # -- views -------------------------------------------------------------------------------------

    def _view(self, tx: Tx, a: StoredAlert, *, has_pending: bool = True, has_scene: bool | None = None) -> AlertView:
        s = tx.session
        det = s.get(AlertDetailsRow, a.id)
        doc: dict[str, Any] = json.loads(det.details_json) if det is not None else {}
        q = doc.get("quality") or {}
        category = None
        if a.entry_id is not None:
            row = s.get(WatchlistEntryRow, a.entry_id)
            category = row.category if row is not None else None
        return AlertView(
            id=a.id,
            deployment_id=a.deployment_id,
            camera_id=a.camera_id,
            entry_id=a.entry_id,
            category=category,
            similarity=a.similarity,
            track_id=a.track_id,
            raised_at=a.raised_at,
            has_crop=a.has_crop,
            quality=AlertQuality(**{k: q.get(k) for k in AlertQuality.__slots__}),
            latency_ms=doc.get("latency_ms"),
            adjudication=a.adjudication,
            engaged=a.engaged,
            outcome=a.outcome,
            pending=tx.reviews.get(a.id) if has_pending else None,
            adjudicated_by=row_.adjudicated_by if (row_ := s.get(AlertRow, a.id)) is not None else None,
            adjudicated_at=row_.adjudicated_at if row_ is not None else None,
            retained_until=a.retained_until,
            has_scene=a.id in tx.alerts.with_scene([a.id]) if has_scene is None else has_scene,
            integrity_flags=tuple(str(f) for f in doc.get("integrity_flags") or ()),
            pad=_pad_of(doc.get("pad")),
        )

    def list(
        self,
        *,
        deployment_id: int | None = None,
        open_only: bool = False,
        limit: int = 200,
        after_id: int | None = None,
    ) -> list[AlertView]:
        """Newest first; ``after_id``: only alerts after that one (a console catching up)."""
        as_of = self.store.clock.now()
        with self.store.transaction() as tx:
            # open_only: open as it stands after the follow-ups, so the limit applies after those
            found = tx.alerts.newest(deployment_id=deployment_id, after_id=after_id, limit=None if open_only else limit)
            views = self._views(tx, found)
        shown = self._with_followups(views, as_of)
        if open_only:  # open as it stands now (an undone verdict is open again)
            shown = [v for v in shown if v.adjudication is None][:limit]
        return [*shown]

    def get_many(self, alert_ids: Sequence[int]) -> builtins.list[AlertView]:
        """Several alerts' views in a few queries, in id order (the WebSocket fan-out's batch);
        an alert deleted meanwhile is left out."""
        as_of = self.store.clock.now()
        with self.store.transaction() as tx:
            views = self._views(tx, sorted(tx.alerts.by_ids(alert_ids), key=lambda a: a.id))
        return [*self._with_followups(views, as_of)]

    def _views(self, tx: Tx, found: Sequence[StoredAlert]) -> builtins.list[AlertView]:
        s = tx.session
        # load the related rows in a few queries; the identity map then answers _view's lookups.
        # It holds rows weakly: ``held`` keeps them alive until the views are built (else each
        # lookup went back to the database: three queries per alert, 150 per console poll)
        ids = [a.id for a in found]
        entries = {a.entry_id for a in found if a.entry_id is not None}
        held = [
            *s.scalars(select(AlertRow).where(AlertRow.id.in_(ids))),
            *s.scalars(select(AlertDetailsRow).where(AlertDetailsRow.alert_id.in_(ids))),
            *s.scalars(select(WatchlistEntryRow).where(WatchlistEntryRow.id.in_(entries))),
        ]
        pending = set(s.scalars(select(AlertReviewRow.alert_id).where(AlertReviewRow.alert_id.in_(ids))))
        scenes = tx.alerts.with_scene(ids)
        views = [self._view(tx, a, has_pending=a.id in pending, has_scene=a.id in scenes) for a in found]
        del held
        return views

    def find(self, user: User, deployment_id: int | None = None) -> builtins.list[StoredAlert]:
        """Every stored alert (ids and scores, no images) for a reviewer; the listing is audited."""
        user.require(Permission.ADJUDICATE)
        with self.store.transaction() as tx:
            found = tx.alerts.find(deployment_id)
            tx.audit.append(user.name, "alert.listed", f"deployment:{deployment_id}" if deployment_id else "", {})
            return found

    def get(self, alert_id: int) -> AlertView:
        as_of = self.store.clock.now()
        with self.store.transaction() as tx:
            v = self._view(tx, tx.alerts.get(alert_id))
        return self._with_followups([v], as_of)[0]

    def view(self, actor: str, alert_id: int) -> AlertView:
        """One alert's facts (no image); the view is audited."""
        as_of = self.store.clock.now()
        with self.store.transaction() as tx:
            v = self._view(tx, tx.alerts.get(alert_id))
            tx.audit.append(actor, "alert.viewed", f"alert:{alert_id}", {"image": False})
        return self._with_followups([v], as_of)[0]

    def _with_followups(self, views: Sequence[AlertView], as_of: datetime) -> Sequence[AlertView]:
        """Add the later events, the decision that stands after them (``alerts.verdicts``), until when
        it may be undone, the repeat-sighting count (``alerts.followups``) and ``as_of``: when the
        reading began (a console shown a view read earlier than the one it has keeps its own)."""
        from overt.alerts.followups import AlertFollowups

        f = AlertFollowups(self.store)
        ids = [v.id for v in views]
        events, seen = f.events(ids), f.sightings(ids)
        window = self.store.policy.undo_window
        out = []
        for v in views:
            evs = tuple(events.get(v.id, ()))
            first = Decision(v.adjudication, v.engaged, v.outcome, v.adjudicated_by, v.adjudicated_at)
            d = effective(first if v.adjudication is not None else Decision(), evs)
            undo_until = None
            if d.verdict is not None and d.at is not None and not d.corrected:
                undo_until = d.at + window
            elif d.verdict is None and v.pending is not None:
                undo_until = v.pending.proposed_at + window
            out.append(
                replace(
                    v,
                    adjudication=d.verdict,
                    engaged=d.engaged,
                    outcome=d.outcome,
                    adjudicated_by=d.by,
                    adjudicated_at=d.at,
                    undo_until=undo_until,
                    sightings=seen.get(v.id, 1),
                    events=evs,
                    as_of=as_of,
                )
            )
        return out

    def crop(self, user: User, alert_id: int) -> bytes:
        """The probe crop, decrypted; the view is audited."""
        user.require(Permission.ADJUDICATE)
        with self.store.transaction() as tx:
            crop = tx.alerts.crop(alert_id)
            tx.audit.append(user.name, "alert.viewed", f"alert:{alert_id}", {})
            return crop

    def scene(self, user: User, alert_id: int) -> bytes:
        """The redacted scene frame (bystanders blurred, the alerted face boxed), decrypted; audited
        like the crop. NotFoundError when the alert has none."""
        user.require(Permission.ADJUDICATE)
        with self.store.transaction() as tx:
            scene = tx.alerts.scene(alert_id)
            tx.audit.append(user.name, "alert.viewed", f"alert:{alert_id}", {"scene": True})
            return scene

    def exported(self, user: User, alert_id: int, n_bytes: int) -> None:
        """Record that the decrypted crop left the system as a file."""
        user.require(Permission.ADJUDICATE)
        with self.store.transaction() as tx:
            tx.audit.append(user.name, "alert.exported", f"alert:{alert_id}", {"bytes": n_bytes})

    def watchlist_image(self, actor: str, alert_id: int) -> bytes:
        """The watch-list image of the matched entry (for adjudication); audited."""
        with self.store.transaction() as tx:
            a = tx.alerts.get(alert_id)
            if a.entry_id is None:
                raise NotFoundError(f"alert {alert_id} names no watch-list entry")
            data = tx.watchlist.image(a.entry_id)
            tx.audit.append(actor, "watchlist.image_viewed", f"entry:{a.entry_id}", {"alert": alert_id})
            return data

    # -- adjudication ------------------------------------------------------------------------------

    def adjudicate(
        self,
        user: User,
        alert_id: int,
        verdict: str,
        outcome: str | None = None,
        *,
        engaged: bool | None = None,
    ) -> tuple[AlertView, bool]:
        """Record a verdict; returns (the alert as it stands, whether the verdict counts now).

        With two-person confirmation on, a true match counts only once a second operator agrees
        (the first verdict is stored as a proposal); a second person who disagrees sends it back
        to open; whoever proposed a verdict cannot confirm it. A pending proposal binds every
        caller, whatever its own setting. ``engaged`` defaults to what ``outcome`` says. An alert
        whose verdict was undone (``alerts.followups``) is open again and takes a new verdict.
        """
        _, counted = self._adjudicate(user, alert_id, verdict, outcome, engaged)
        return self.get(alert_id), counted  # read after the commit: newer than any push read before it

    def _adjudicate(
        self, user: User, alert_id: int, verdict: str, outcome: str | None, engaged: bool | None
    ) -> tuple[AlertView, bool]:
        user.require(Permission.ADJUDICATE)
        if verdict not in ("true_match", "false_match"):
            raise InputError("verdict must be true_match or false_match")
        if verdict == "false_match" and outcome not in (None, "no_action"):
            raise InputError("a false alert has no outcome other than no_action")
        v: Verdict = "true_match" if verdict == "true_match" else "false_match"
        with self.store.transaction() as tx:
            st = standing(tx, alert_id)
            a = st.alert
            if st.decision.verdict is not None:
                raise InputError(f"alert {alert_id} was already adjudicated ({st.decision.verdict})")
            pending = tx.reviews.get(alert_id)
            if pending is None and self.second_person and v == "true_match":
                eng = engaged if engaged is not None else outcome in ENGAGED
                tx.reviews.propose(alert_id, v, engaged=eng, outcome=outcome, by=user.name, now=tx.clock.now())
                tx.audit.append(user.name, "alert.verdict_proposed", f"alert:{alert_id}", {"verdict": v})
                return self._view(tx, a), False
            if pending is not None:
                if pending.proposed_by == user.name:
                    raise GovernanceError("a second person must confirm this verdict (you proposed it)")
                tx.reviews.clear(alert_id)
                if pending.verdict != v:
                    tx.audit.append(
                        user.name, "alert.verdict_disputed", f"alert:{alert_id}", {"proposed": pending.verdict}
                    )
                    return self._view(tx, a), False
                outcome = outcome or pending.outcome
                if engaged is None:
                    engaged = pending.engaged
                tx.audit.append(
                    user.name, "alert.verdict_confirmed", f"alert:{alert_id}", {"proposed_by": pending.proposed_by}
                )
            eng = engaged if engaged is not None else outcome in ENGAGED
            now = tx.clock.now()
            if a.adjudication is None:
                a = tx.alerts.adjudicate(alert_id, v, by=user.name, now=now, engaged=eng, outcome=outcome)
            else:  # undone earlier: the new verdict is an event beside the first (never an edit)
                AlertEventRepository(tx.session).append(
                    alert_id, "verdict", verdict_value(v, eng, outcome), by=user.name, at=now
                )
                tx.deployments.count_adjudication(a.deployment_id, v == "true_match", eng, outcome)
            tx.audit.append(
                user.name,
                "alert.adjudicated",
                f"alert:{alert_id}",
                {"verdict": v, "engaged": eng, "outcome": outcome},
            )
            return self._view(tx, a), True


def _audit_raised(tx: Tx, stored: StoredAlert, actor: str) -> None:
    tx.audit.append(
        actor,
        "alert.raised",
        f"alert:{stored.id}",
        {
            "deployment": stored.deployment_id,
            "camera": stored.camera_id,
            "entry": stored.entry_id,
            "similarity": round(stored.similarity, 4),
        },
    )


class _TickDueError(Exception):
    """The deployment tick has work to commit before an alert can be checked (rare)."""


def claim_of(deployment_id: int, alert: IncomingAlert) -> DeviceAlertClaim:
    """What the sender claims, for the ingest checks."""
    return DeviceAlertClaim(
        deployment_id,
        alert.entry_id,
        alert.similarity,
        alert.raised_at,
        alert.crop_jpeg,
        alert.context_jpeg,
        alert.scene_jpeg,
    )


def _pad_of(doc: object) -> PadResult | None:
    """The stored PAD verdict (``details_json``), or None when PAD did not run or the record is odd."""
    if not isinstance(doc, dict):
        return None
    try:
        return PadResult(str(doc["backend"]), float(doc["score"]), bool(doc["live"]))
    except (KeyError, TypeError, ValueError, InputError):
        return None


def _quality_dict(q: AlertQuality) -> dict[str, float | None]:
    return {k: getattr(q, k) for k in AlertQuality.__slots__}


def _by_remote_id(s: Session, remote_id: str) -> int | None:
    found = s.scalar(select(AlertDetailsRow.alert_id).where(AlertDetailsRow.remote_id == remote_id))
    return None if found is None else int(found)
