"""The deployment state machine: draft -> authorised -> active -> closed (pure; no database).

Guards: a deployment cannot be authorised by its creator; cannot start without authorisation,
outside its planned window, or before its public notice has been published for the policy's lead
time (unless an authorising officer approved an urgent late start with a written reason); stops by
itself at its end. Closing one that never started is a cancellation (kept, shown as cancelled).
``active -> authorised`` is a manual stop (it may start again inside its window).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from overt.domain.watchlist import Category
from overt.errors import GovernanceError, InputError


class DeploymentState(StrEnum):
    DRAFT = "draft"
    AUTHORISED = "authorised"
    ACTIVE = "active"
    CLOSED = "closed"


def _text(name: str, value: str, max_len: int = 2000) -> None:
    if not value or not value.strip():
        raise InputError(f"{name} must not be empty")
    if len(value) > max_len:
        raise InputError(f"{name} is too long ({len(value)} > {max_len} characters)")


def _aware(name: str, value: datetime) -> None:
    if value.tzinfo is None:
        raise InputError(f"{name} must carry a timezone (e.g. 2026-05-01T10:00+01:00)")


@dataclass(frozen=True, slots=True)
class DeploymentPlan:
    """What is authorised: purpose, legal basis, place, window, watch-list criteria, threshold."""

    purpose: str
    legal_basis: str
    place: str
    planned_start: datetime
    planned_end: datetime
    criteria: str
    categories: tuple[Category, ...]
    min_similarity: float
    threshold_justification: str
    geofence: tuple[tuple[float, float], ...] | None = None
    """Optional polygon of (latitude, longitude) vertices."""
    calibration_profile: str | None = None
    expected_false_alerts_per_1000: float | None = None
    estimate_basis: str | None = None
    """Where the expected false-alert figure comes from (calibration profile or labelled estimate)."""
    category_counts: tuple[tuple[str, int], ...] = ()
    """Watch-list entries per category in the authorised snapshot (counts only, never a subject)."""

    def __post_init__(self) -> None:
        _text("purpose", self.purpose)
        _text("legal basis", self.legal_basis)
        _text("place", self.place)
        _text("watch-list criteria", self.criteria)
        _text("threshold justification", self.threshold_justification)
        _aware("planned start", self.planned_start)
        _aware("planned end", self.planned_end)
        if self.planned_end <= self.planned_start:
            raise InputError("planned end must be after planned start")
        if not self.categories:
            raise InputError("at least one watch-list category is needed")
        if not (math.isfinite(self.min_similarity) and 0.0 < self.min_similarity < 1.0):
            raise InputError(f"alert threshold must lie in (0, 1), got {self.min_similarity}")
        if self.geofence is not None:
            if len(self.geofence) < 3:
                raise InputError("a geofence needs at least 3 vertices")
            for lat, lon in self.geofence:
                if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                    raise InputError(f"geofence vertex ({lat}, {lon}) is not a valid latitude/longitude")


@dataclass(frozen=True, slots=True)
class DeploymentCounters:
    faces_processed: int = 0
    alerts_raised: int = 0
    alerts_true: int = 0
    alerts_false: int = 0
    engagements: int = 0
    outcomes: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Deployment:
    id: int
    state: DeploymentState
    plan: DeploymentPlan
    created_by: str
    created_at: datetime
    authorised_by: str | None = None
    authorised_at: datetime | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    stop_reason: str | None = None
    closed_at: datetime | None = None
    counters: DeploymentCounters = field(default_factory=DeploymentCounters)
    notice_published_at: datetime | None = None
    notice_published_by: str | None = None
    late_start_by: str | None = None
    late_start_reason: str | None = None

    @property
    def cancelled(self) -> bool:
        """Closed without ever starting."""
        return self.state is DeploymentState.CLOSED and self.started_at is None

    def notice_public_for(self, now: datetime) -> timedelta | None:
        return None if self.notice_published_at is None else now - self.notice_published_at

    # -- guards and transitions (each returns a new Deployment or raises GovernanceError) --

    def change_threshold(self, min_similarity: float, justification: str) -> Deployment:
        """A new alert threshold, before authorisation only: the officer authorises THIS threshold.

        After authorisation the threshold is part of what was authorised and cannot change; a
        different threshold needs a new deployment (and a new authorisation).
        """
        if self.state is not DeploymentState.DRAFT:
            raise GovernanceError(
                f"deployment {self.id} is {self.state.value}; its authorised threshold cannot change "
                "(create a new deployment for a different threshold)"
            )
        plan = replace(self.plan, min_similarity=min_similarity, threshold_justification=justification)
        return replace(self, plan=plan)

    def authorise(self, by: str, now: datetime) -> Deployment:
        if self.state is not DeploymentState.DRAFT:
            raise GovernanceError(f"deployment {self.id} is {self.state.value}; only a draft can be authorised")
        if by == self.created_by:
            raise GovernanceError(
                f"deployment {self.id} cannot be authorised by its creator ({by}); a second person must authorise it"
            )
        if now >= self.plan.planned_end:
            raise GovernanceError(f"deployment {self.id}: its planned end has passed; it cannot be authorised")
        return replace(self, state=DeploymentState.AUTHORISED, authorised_by=by, authorised_at=now)

    def publish_notice(self, by: str, now: datetime) -> Deployment:
        """Make the deployment public (the public site lists it as upcoming from now)."""
        if self.state is not DeploymentState.AUTHORISED:
            raise GovernanceError(
                f"deployment {self.id} is {self.state.value}; only an authorised deployment's notice can be published"
            )
        if self.notice_published_at is not None:
            raise GovernanceError(f"deployment {self.id}: its notice was already published")
        return replace(self, notice_published_at=now, notice_published_by=by)

    def approve_late_start(self, by: str, reason: str) -> Deployment:
        """An urgent start before the notice lead time has passed (shown publicly with its reason)."""
        _text("reason for the late notice", reason, 500)
        if len(reason.strip()) < 10:
            raise InputError("the reason for an urgent late start must be written out (at least 10 characters)")
        if self.state is not DeploymentState.AUTHORISED:
            raise GovernanceError(f"deployment {self.id} is {self.state.value}; a late start needs an authorised one")
        if self.notice_published_at is None:
            raise GovernanceError(f"deployment {self.id}: publish its notice before approving a late start")
        return replace(self, late_start_by=by, late_start_reason=reason.strip())

    def start(self, now: datetime, *, notice_lead_time: timedelta) -> Deployment:
        if self.state is DeploymentState.ACTIVE:
            raise GovernanceError(f"deployment {self.id} is already active")
        if self.state is not DeploymentState.AUTHORISED:
            raise GovernanceError(f"deployment {self.id} is {self.state.value}; it must be authorised before it starts")
        if now < self.plan.planned_start:
            raise GovernanceError(
                f"deployment {self.id} cannot start before its planned start {self.plan.planned_start.isoformat()}"
            )
        if now >= self.plan.planned_end:
            raise GovernanceError(
                f"deployment {self.id} cannot start after its planned end {self.plan.planned_end.isoformat()}"
            )
        public_for = self.notice_public_for(now)
        if public_for is None:
            raise GovernanceError(
                f"deployment {self.id}: its public notice has not been published (publish the notice first)"
            )
        if public_for < notice_lead_time and self.late_start_by is None:
            hours = notice_lead_time.total_seconds() / 3600
            raise GovernanceError(
                f"deployment {self.id}: its notice has been public for {public_for.total_seconds() / 3600:.1f} h; "
                f"the policy needs {hours:g} h before a start (or an authorising officer's urgent override "
                "with a written reason)"
            )
        return replace(self, state=DeploymentState.ACTIVE, started_at=now, stopped_at=None, stop_reason=None)

    def stop(self, now: datetime, reason: str = "stopped by operator") -> Deployment:
        if self.state is not DeploymentState.ACTIVE:
            raise GovernanceError(f"deployment {self.id} is {self.state.value}, not active")
        return replace(self, state=DeploymentState.AUTHORISED, stopped_at=now, stop_reason=reason)

    def close(self, now: datetime) -> Deployment:
        if self.state is DeploymentState.CLOSED:
            raise GovernanceError(f"deployment {self.id} is already closed")
        stopped = self.stopped_at if self.state is not DeploymentState.ACTIVE else now
        reason = self.stop_reason if self.state is not DeploymentState.ACTIVE else "closed"
        return replace(self, state=DeploymentState.CLOSED, closed_at=now, stopped_at=stopped, stop_reason=reason)

    def due_to_stop(self, now: datetime) -> bool:
        """Active past its planned end: must stop now (automatic stop)."""
        return self.state is DeploymentState.ACTIVE and now >= self.plan.planned_end

    def auto_stop(self) -> Deployment:
        """The automatic stop at the planned end (recorded at the planned end, not when noticed)."""
        return replace(
            self, state=DeploymentState.AUTHORISED, stopped_at=self.plan.planned_end, stop_reason="planned end reached"
        )
