"""Deployments: plan, state and counters."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from overt.domain.deployments import Deployment, DeploymentCounters, DeploymentPlan, DeploymentState
from overt.domain.watchlist import (
    Category,
)
from overt.errors import InputError, NotFoundError
from overt.store.models import DeploymentRow


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
        geofence=geofence,
        calibration_profile=row.calibration_profile,
        expected_false_alerts_per_1000=row.expected_false_alerts_per_1000,
        estimate_basis=row.estimate_basis,
        category_counts=tuple((str(k), int(v)) for k, v in json.loads(row.category_counts_json or "[]")),
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
        notice_published_at=row.notice_published_at,
        notice_published_by=row.notice_published_by,
        late_start_by=row.late_start_by,
        late_start_reason=row.late_start_reason,
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
            notice_confirmed=False,
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
        """Persist a state transition (the plan is immutable except the threshold of a draft, which
        domain ``Deployment.change_threshold`` guards, and what authorisation records)."""
        row = self._row(d.id)
        if d.state is DeploymentState.DRAFT:
            row.min_similarity = d.plan.min_similarity
            row.threshold_justification = d.plan.threshold_justification
        row.state = d.state.value
        row.notice_confirmed = d.notice_published_at is not None  # legacy column: notice published
        row.expected_false_alerts_per_1000 = d.plan.expected_false_alerts_per_1000
        row.estimate_basis = d.plan.estimate_basis
        row.category_counts_json = json.dumps([list(kv) for kv in d.plan.category_counts])
        row.notice_published_at = d.notice_published_at
        row.notice_published_by = d.notice_published_by
        row.late_start_by = d.late_start_by
        row.late_start_reason = d.late_start_reason
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

    def count_adjudication(
        self, deployment_id: int, is_true: bool, engaged: bool, outcome: str | None, *, sign: int = 1
    ) -> None:
        """Count a verdict (``sign`` -1: take back one that was corrected or undone)."""
        if sign not in (1, -1):
            raise InputError("sign must be 1 or -1")
        row = self._row(deployment_id)
        if is_true:
            row.alerts_true = max(0, row.alerts_true + sign)
        else:
            row.alerts_false = max(0, row.alerts_false + sign)
        if engaged:
            row.engagements = max(0, row.engagements + sign)
        if outcome:
            outcomes = json.loads(row.outcomes_json or "{}")
            n = int(outcomes.get(outcome, 0)) + sign
            if n > 0:
                outcomes[outcome] = n
            else:
                outcomes.pop(outcome, None)
            row.outcomes_json = json.dumps(outcomes, sort_keys=True)
