"""Steps on an alert after its verdict, each a new audited event (never an edit).

- an outcome learnt later (engaged, arrested, no action);
- a corrected verdict (with the reason, in the audit log);
- retention as evidence (reason and period), so the alert outlives the purge.

Also the case facts of the matched entry for the adjudicating operator (reference and reason,
decrypted for this view; the view is audited), and how often the same entry was sighted in the
deployment (repeat sightings).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from overt.domain.users import Permission, User
from overt.errors import InputError, NotFoundError
from overt.retention import retain_alert
from overt.store.models import AlertRow
from overt.store.repositories import AlertEvent, AlertEventRepository
from overt.store.store import Store

Outcome = Literal["engaged", "arrested", "no_action"]
OUTCOMES: tuple[str, ...] = ("engaged", "arrested", "no_action")
MAX_RETAIN_DAYS = 3 * 365


@dataclass(frozen=True, slots=True)
class CaseFacts:
    alert_id: int
    entry_id: int
    subject_ref: str
    reason: str
    category: str

    def __repr__(self) -> str:  # no references in logs
        return f"CaseFacts(alert_id={self.alert_id}, entry_id={self.entry_id}, <redacted>)"


class AlertFollowups:
    def __init__(self, store: Store) -> None:
        self.store = store

    def record_outcome(self, user: User, alert_id: int, outcome: str) -> AlertEvent:
        """An outcome learnt after the verdict: appended, the verdict itself is not rewritten."""
        user.require(Permission.ADJUDICATE)
        if outcome not in OUTCOMES:
            raise InputError(f"outcome must be one of {', '.join(OUTCOMES)}")
        with self.store.transaction() as tx:
            s = tx.session
            row = _decided(s, alert_id, "has no verdict yet: record the verdict (with its outcome) first")
            if row.adjudication == "false_match" and outcome != "no_action":
                raise InputError("a false alert has no outcome other than no action")
            ev = AlertEventRepository(s).append(alert_id, "outcome", outcome, by=user.name, at=self.store.clock.now())
            tx.audit.append(user.name, "alert.outcome_added", f"alert:{alert_id}", {"outcome": outcome})
            return ev

    def correct_verdict(self, user: User, alert_id: int, verdict: str, reason: str) -> AlertEvent:
        """A later correction of the verdict, with its reason: a new event beside the original."""
        user.require(Permission.ADJUDICATE)
        if verdict not in ("true_match", "false_match"):
            raise InputError("verdict must be true_match or false_match")
        if not reason.strip():
            raise InputError("a correction needs a reason")
        with self.store.transaction() as tx:
            s = tx.session
            row = _decided(s, alert_id, "has no verdict to correct")
            ev = AlertEventRepository(s).append(
                alert_id, "correction", verdict, by=user.name, at=self.store.clock.now()
            )
            tx.audit.append(
                user.name,
                "alert.verdict_corrected",
                f"alert:{alert_id}",
                {"was": row.adjudication, "now": verdict, "reason": reason.strip()[:500]},
            )
            return ev

    def retain(self, user: User, alert_id: int, *, reason: str, days: int) -> AlertEvent:
        """Hold the alert and its image as evidence for ``days`` (audited as ``alert.retained``)."""
        user.require(Permission.ADJUDICATE)
        if not 1 <= days <= MAX_RETAIN_DAYS:
            raise InputError(f"retain for 1 to {MAX_RETAIN_DAYS} days")
        until = self.store.clock.now() + timedelta(days=days)
        retain_alert(self.store, user, alert_id, reason=reason, until=until)
        with self.store.db.session() as s:
            return AlertEventRepository(s).append(
                alert_id, "retained", until.date().isoformat(), by=user.name, at=self.store.clock.now()
            )

    def events(self, alert_ids: list[int]) -> dict[int, list[AlertEvent]]:
        with self.store.db.session() as s:
            return AlertEventRepository(s).for_alerts(alert_ids)

    def sightings(self, alert_ids: list[int]) -> dict[int, int]:
        """For each alert: how many alerts of its deployment name the same entry (1: the first)."""
        with self.store.db.session() as s:
            rows = list(s.execute(select(AlertRow.id, AlertRow.deployment_id, AlertRow.entry_id)))
        counts = Counter((d, e) for _, d, e in rows if e is not None)
        key = {i: (d, e) for i, d, e in rows}
        out: dict[int, int] = {}
        for i in alert_ids:
            dep, entry = key.get(i, (0, None))
            out[i] = counts.get((dep, entry), 1) if entry is not None else 1
        return out

    def case(self, user: User, alert_id: int) -> CaseFacts:
        """The matched entry's case reference and reason, for the adjudicating operator (audited)."""
        user.require(Permission.ADJUDICATE)
        with self.store.transaction() as tx:
            a = tx.alerts.get(alert_id)
            if a.entry_id is None:
                raise NotFoundError(f"alert {alert_id} names no watch-list entry")
            e = tx.watchlist.get(a.entry_id)
            tx.audit.append(user.name, "alert.case_viewed", f"alert:{alert_id}", {"entry": a.entry_id})
            return CaseFacts(alert_id, a.entry_id, e.details.subject_ref, e.details.reason, e.provenance.category.value)


def _decided(s: Session, alert_id: int, missing: str) -> AlertRow:
    """The alert's row, which must carry a verdict (``missing``: what to say when it does not)."""
    row = s.get(AlertRow, alert_id)
    if row is None:
        raise NotFoundError(f"no alert {alert_id}")
    if row.adjudication is None:
        raise InputError(f"alert {alert_id} {missing}")
    return row
