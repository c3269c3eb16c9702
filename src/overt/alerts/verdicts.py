"""An alert's effective decision: its first verdict, then the events appended after it, in order.

The verdict row is written once and never edited; an undo, a later verdict, a correction or an
outcome is an event in ``alert_events`` (``alerts.followups``). What an alert counts as now (the
queue, the reports, the deployment's counters) is derived here, in one place:

- ``verdict`` (value ``true_match|1|arrested``: verdict, engaged, outcome): a verdict recorded after
  an undo, by ``by`` at ``at``;
- ``correction`` (value: the verdict): the verdict changes, who decided and the outcome stay;
- ``outcome`` (value: the outcome): the outcome learnt later, and whether officers engaged;
- ``undone`` (value ``verdict``): back to no verdict (``proposal``: a proposal withdrawn, no verdict
  was counted);
- ``retained``: no change to the decision;
- ``corr_proposed`` (value: the verdict): a correction proposed under the two-person rule, no change
  until a second person confirms it (a ``correction`` event by them) or disputes it
  (``corr_disputed``: no change); see :func:`pending_correction`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from overt.errors import InputError
from overt.store.models import AlertRow
from overt.store.repositories import AlertEvent, AlertEventRepository, StoredAlert
from overt.store.repositories.deployments import DeploymentRepository
from overt.store.store import Tx

ENGAGED = ("engaged", "arrested")
"""Outcomes that mean officers engaged the person."""
VERDICTS = ("true_match", "false_match")
CORRECTION_PROPOSED = "corr_proposed"
"""A correction awaiting a second person (two-person rule): it changes nothing yet."""
CORRECTION_DISPUTED = "corr_disputed"
"""A second person disagreed with a proposed correction: the verdict stays as it was."""


@dataclass(frozen=True, slots=True)
class Decision:
    """What an alert counts as now (``verdict`` None: open)."""

    verdict: str | None = None
    engaged: bool | None = None
    outcome: str | None = None
    by: str | None = None
    """Who made the verdict that stands (a correction does not change it)."""
    at: datetime | None = None
    corrected: bool = False
    """A correction was recorded after this verdict."""

    @property
    def counted(self) -> tuple[bool, bool, str | None] | None:
        """What the deployment's counters hold for this decision (None: nothing)."""
        if self.verdict is None:
            return None
        return self.verdict == "true_match", bool(self.engaged), self.outcome


def verdict_value(verdict: str, engaged: bool, outcome: str | None) -> str:
    """The value of a ``verdict`` event (short: the events table holds 64 characters)."""
    if verdict not in VERDICTS:
        raise InputError("verdict must be true_match or false_match")
    value = f"{verdict}|{int(engaged)}|{outcome or ''}"
    if len(value) > 64:
        raise InputError("the outcome code is too long")
    return value


def _parse_verdict(value: str) -> tuple[str, bool, str | None]:
    verdict, engaged, outcome = [*value.split("|"), "", ""][:3]
    return verdict, engaged == "1", outcome or None


def first_decision(alert: StoredAlert, by: str | None, at: datetime | None) -> Decision:
    """The verdict on the alert's own row (made by ``by`` at ``at``), before any event."""
    if alert.adjudication is None:
        return Decision()
    return Decision(alert.adjudication, alert.engaged, alert.outcome, by, at)


def effective(first: Decision, events: Iterable[AlertEvent]) -> Decision:
    """The decision that stands: the ``first`` verdict, then ``events`` (oldest first)."""
    d = first
    for e in events:
        if e.kind == "verdict":
            v, eng, outcome = _parse_verdict(e.value)
            d = Decision(v, eng, outcome, e.by, e.at)
        elif e.kind == "undone" and e.value == "verdict":
            d = Decision()
        elif d.verdict is None:
            continue
        elif e.kind == "correction":
            d = replace(d, verdict=e.value, corrected=True)
        elif e.kind == "outcome":
            d = replace(d, outcome=e.value, engaged=e.value in ENGAGED)
    return d


def pending_correction(events: Iterable[AlertEvent]) -> AlertEvent | None:
    """The proposed correction still awaiting a second person (None: none). A confirmation (the
    ``correction`` event), a dispute, an undo or a new verdict settles it."""
    pending = None
    for e in events:
        if e.kind == CORRECTION_PROPOSED:
            pending = e
        elif e.kind in ("correction", CORRECTION_DISPUTED, "verdict") or (e.kind == "undone" and e.value == "verdict"):
            pending = None
    return pending


def recount(deployments: DeploymentRepository, deployment_id: int, before: Decision, after: Decision) -> None:
    """Keep the deployment's counters (what every report reads) equal to the decisions that stand:
    take back ``before``, count ``after``. Counters outlive the purged alerts, so they are kept, not derived."""
    if before.counted == after.counted:
        return
    if before.counted is not None:
        deployments.count_adjudication(deployment_id, *before.counted, sign=-1)
    if after.counted is not None:
        deployments.count_adjudication(deployment_id, *after.counted)


@dataclass(frozen=True, slots=True)
class Standing:
    """One alert as stored, its events (oldest first) and the decision that stands."""

    alert: StoredAlert
    first: Decision
    """The verdict on the alert's row (who made it, when)."""
    events: tuple[AlertEvent, ...]
    decision: Decision


def standing(tx: Tx, alert_id: int) -> Standing:
    """``alert_id``'s decision inside ``tx`` (NotFoundError when there is no such alert)."""
    a = tx.alerts.get(alert_id)
    row = tx.session.get(AlertRow, alert_id)
    events = tuple(AlertEventRepository(tx.session).for_alerts([alert_id]).get(alert_id, ()))
    first = first_decision(a, row.adjudicated_by, row.adjudicated_at) if row is not None else Decision()
    return Standing(a, first, events, effective(first, events))


def effective_after(st: Standing, *more: AlertEvent) -> Decision:
    """The decision once ``more`` events are appended to ``st``'s."""
    return effective(st.first, (*st.events, *more))
