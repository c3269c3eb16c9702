"""What the public may know about deployments, and when (no login; no names, subjects or images).

A deployment is public from the moment its notice is published: upcoming until it starts,
active while it runs, and past once it has ended; closing one that never started shows it as
cancelled (it is never removed). Results (faces processed, alerts, outcomes) are published
only after the end, computed exactly as the transparency report computes them. Nothing here
names a person: not the staff who created, authorised or ran it, not a watch-list subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from overt.domain.deployments import Deployment, DeploymentState
from overt.domain.users import Permission, User
from overt.errors import InputError
from overt.store.datadir import PublicInfo, load_config, write_config
from overt.store.store import Policy, Store
from overt.transparency.report import summarise

SCHEMA_VERSION = "1.0"
"""Version of the open-data schema (docs/public-data-schema.md); bump the major on breaking changes."""


class PublicStatus(StrEnum):
    UPCOMING = "upcoming"
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class PublicResults:
    """After the end: the transparency report's numbers, nothing else."""

    faces_processed: int
    alerts: int
    true_alerts: int
    false_alerts: int
    unadjudicated_alerts: int
    engagements: int
    outcomes: tuple[tuple[str, int], ...]
    active_hours: float | None
    observed_false_alerts_per_1000: float | None


@dataclass(frozen=True, slots=True)
class PublicDeployment:
    id: int
    status: PublicStatus
    place: str
    geofence: tuple[tuple[float, float], ...] | None
    purpose: str
    legal_basis: str
    planned_start: datetime
    planned_end: datetime
    started_at: datetime | None
    ended_at: datetime | None
    notice_published_at: datetime
    published_late: bool
    late_reason: str | None
    watchlist_size: int
    category_counts: tuple[tuple[str, int], ...]
    min_similarity: float
    expected_false_alerts_per_1000: float | None
    estimate_source: str
    results: PublicResults | None

    @property
    def updated_at(self) -> datetime:
        return max(t for t in (self.notice_published_at, self.started_at, self.ended_at) if t is not None)


@dataclass(frozen=True, slots=True)
class RetentionFact:
    what: str
    kept_for: str


def _duration(td: timedelta) -> str:
    hours = td.total_seconds() / 3600
    if hours == 0:
        return "not kept"
    if hours % 24 == 0 and hours >= 48:
        return f"{hours / 24:g} days"
    return f"{hours:g} hours"


def status_of(d: Deployment, now: datetime) -> PublicStatus | None:
    """The public status, or None while it is not public (no notice published yet)."""
    if d.notice_published_at is None:
        return None
    if d.cancelled:
        return PublicStatus.CANCELLED
    if d.state is DeploymentState.ACTIVE:
        return PublicStatus.ACTIVE
    if d.state is DeploymentState.CLOSED or now >= d.plan.planned_end:
        return PublicStatus.ENDED if d.started_at is not None else PublicStatus.CANCELLED
    if d.started_at is not None:
        return PublicStatus.PAUSED
    return PublicStatus.UPCOMING


def _estimate_source(d: Deployment) -> str:
    """Measured (a calibration profile) or a labelled estimate: the public is told which."""
    basis = d.plan.estimate_basis or ""
    if basis.startswith("calibration profile") or (not basis and d.plan.calibration_profile):
        return basis or f"calibration profile {d.plan.calibration_profile}"
    return "estimate: not measured on a calibration set; computed from the face model's published error rates"


def public_record(d: Deployment, watchlist_size: int, now: datetime, lead_time: timedelta) -> PublicDeployment | None:
    status = status_of(d, now)
    if status is None or d.notice_published_at is None:
        return None
    results = None
    if status is PublicStatus.ENDED:
        r = summarise(d, watchlist_size)
        results = PublicResults(
            faces_processed=r.faces_processed,
            alerts=r.alerts,
            true_alerts=r.true_alerts,
            false_alerts=r.false_alerts,
            unadjudicated_alerts=r.unadjudicated_alerts,
            engagements=r.engagements,
            outcomes=tuple(sorted(r.outcomes.items())),
            active_hours=r.active_hours,
            observed_false_alerts_per_1000=r.observed_false_alerts_per_1000,
        )
    ended = None
    if status in (PublicStatus.ENDED, PublicStatus.CANCELLED):
        ended = d.stopped_at or d.closed_at
    late = d.late_start_by is not None and (d.started_at is None or d.started_at - d.notice_published_at < lead_time)
    counts = d.plan.category_counts or tuple((c.value, 0) for c in d.plan.categories)
    return PublicDeployment(
        id=d.id,
        status=status,
        place=d.plan.place,
        geofence=d.plan.geofence,
        purpose=d.plan.purpose,
        legal_basis=d.plan.legal_basis,
        planned_start=d.plan.planned_start,
        planned_end=d.plan.planned_end,
        started_at=d.started_at,
        ended_at=ended,
        notice_published_at=d.notice_published_at,
        published_late=late,
        late_reason=d.late_start_reason if late else None,
        watchlist_size=watchlist_size,
        category_counts=counts,
        min_similarity=d.plan.min_similarity,
        expected_false_alerts_per_1000=d.plan.expected_false_alerts_per_1000,
        estimate_source=_estimate_source(d),
        results=results,
    )


class PublicSite:
    """Reads what is public. Read-only: no audit entry per page view (the pages hold nothing personal)."""

    def __init__(self, store: Store, info: PublicInfo | None = None, policy: Policy | None = None) -> None:
        self.store = store
        self.info = info or PublicInfo()
        self.policy = policy or store.policy

    @classmethod
    def for_data_dir(cls, store: Store, data_dir: Path | None) -> PublicSite:
        if data_dir is None:
            return cls(store)
        cfg = load_config(data_dir)
        return cls(store, cfg.public, cfg.policy())

    def now(self) -> datetime:
        return self.store.clock.now()

    def deployments(self) -> tuple[PublicDeployment, ...]:
        """Every public deployment, newest planned start first."""
        now = self.now()
        out: list[PublicDeployment] = []
        with self.store.transaction() as tx:
            for d in tx.deployments.find():
                if d.notice_published_at is None:
                    continue
                info = tx.snapshots.info(d.id)
                rec = public_record(d, info.entry_count if info else 0, now, self.policy.notice_lead_time)
                if rec is not None:
                    out.append(rec)
        return tuple(sorted(out, key=lambda r: (r.planned_start, r.id), reverse=True))

    def deployment(self, deployment_id: int) -> PublicDeployment | None:
        return next((r for r in self.deployments() if r.id == deployment_id), None)

    def retention(self) -> tuple[RetentionFact, ...]:
        """What Overt keeps and for how long, from this data directory's settings."""
        p = self.policy
        return (
            RetentionFact(
                "Faces of people who match no one on the watch list", "not kept: compared in memory, then discarded"
            ),
            RetentionFact(
                "Alerts (a possible match) and their images",
                _duration(p.alert_retention) + " after the alert, unless kept as evidence",
            ),
            RetentionFact(
                "The deployment's frozen copy of the watch list",
                "destroyed when the deployment closes, at the latest "
                + _duration(p.snapshot_shred_after)
                + " after its planned end",
            ),
            RetentionFact("Counts published on this site (faces processed, alerts, outcomes)", "kept and published"),
            RetentionFact("Public notice before a deployment starts", "at least " + _duration(p.notice_lead_time)),
        )


def set_public_info(store: Store, data_dir: Path, actor: User, **fields: str | None) -> PublicInfo:
    """An admin sets what the public site says about contact, complaints and assessments (audited)."""
    actor.require(Permission.MANAGE_USERS)
    cfg = load_config(data_dir)
    changed = {k: v for k, v in fields.items() if v is not None}
    for url_field in ("complaints_url", "equality_assessment_url", "dpia_url", "public_base_url"):
        v = changed.get(url_field)
        if v and not v.startswith(("https://", "http://")):
            raise InputError(f"{url_field.replace('_', ' ')} must be an http(s) address")
    info = PublicInfo.model_validate({**cfg.public.model_dump(), **changed})
    write_config(data_dir, cfg.model_copy(update={"public": info}))
    with store.transaction() as tx:
        tx.audit.append(actor.name, "public.settings_changed", "public", {"fields": ",".join(sorted(changed))})
    return info
