"""Steps on an alert after its verdict, each a new audited event (never an edit).

- an outcome learnt later (engaged, arrested, no action);
- a corrected verdict (with the reason, in the audit log);
- retention as evidence (reason and period), so the alert outlives the purge;
- an undo of one's own verdict within the undo window (the alert is open again).

What an alert counts as after these steps is derived in ``alerts.verdicts``.

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

from overt.alerts.verdicts import (
    CORRECTION_DISPUTED,
    CORRECTION_PROPOSED,
    Standing,
    effective_after,
    pending_correction,
    recount,
    standing,
)
from overt.domain.users import Permission, User
from overt.errors import AuthError, GovernanceError, InputError, NotFoundError
from overt.retention import MAX_RETAIN_DAYS, retain_alert
from overt.store.models import AlertRow
from overt.store.repositories import AlertEvent, AlertEventRepository
from overt.store.store import Store, Tx

Outcome = Literal["engaged", "arrested", "no_action"]
OUTCOMES: tuple[str, ...] = ("engaged", "arrested", "no_action")


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
    """Later steps on alerts for one store. ``second_person``: the two-person rule applies to
    corrections (also on when the data directory's policy says so; a caller can add it, never drop it)."""

    def __init__(self, store: Store, *, second_person: bool = False) -> None:
        self.store = store
        self.second_person = second_person or store.policy.second_person_confirmation

    def record_outcome(self, user: User, alert_id: int, outcome: str) -> AlertEvent:
        """An outcome learnt after the verdict: appended, the verdict itself is not rewritten."""
        user.require(Permission.ADJUDICATE)
        if outcome not in OUTCOMES:
            raise InputError(f"outcome must be one of {', '.join(OUTCOMES)}")
        with self.store.transaction() as tx:
            st = _decided(tx, alert_id, "has no verdict yet: record the verdict (with its outcome) first")
            if st.decision.verdict == "false_match" and outcome != "no_action":
                raise InputError("a false alert has no outcome other than no action")
            ev = AlertEventRepository(tx.session).append(
                alert_id, "outcome", outcome, by=user.name, at=self.store.clock.now()
            )
            _recount(tx, st, ev)
            tx.audit.append(user.name, "alert.outcome_added", f"alert:{alert_id}", {"outcome": outcome})
            return ev

    def correct_verdict(self, user: User, alert_id: int, verdict: str, reason: str) -> AlertEvent:
        """A later correction of the verdict, with its reason: a new event beside the original.

        Two-person rule (as for a first verdict, ``AlertService.adjudicate``): a correction that makes
        the alert a true match is only proposed (``corr_proposed``, audited; nothing changes, the
        counters neither); it takes effect when a different operator records the same correction
        (``alert.correction_confirmed``); one who records the other verdict disputes it (the verdict
        stays). Whoever proposed it cannot confirm it. A pending proposal binds every caller.
        """
        user.require(Permission.ADJUDICATE)
        if verdict not in ("true_match", "false_match"):
            raise InputError("verdict must be true_match or false_match")
        if not reason.strip():
            raise InputError("a correction needs a reason")
        why = reason.strip()[:500]
        target = f"alert:{alert_id}"
        with self.store.transaction() as tx:
            st = _decided(tx, alert_id, "has no verdict to correct")
            repo, now = AlertEventRepository(tx.session), tx.clock.now()
            pending = pending_correction(st.events)
            if pending is not None:
                if pending.by == user.name:
                    raise GovernanceError("a second person must confirm this correction (you proposed it)")
                if pending.value != verdict:
                    ev = repo.append(alert_id, CORRECTION_DISPUTED, pending.value, by=user.name, at=now)
                    tx.audit.append(
                        user.name,
                        "alert.correction_disputed",
                        target,
                        {"proposed": pending.value, "proposed_by": pending.by, "reason": why},
                    )
                    return ev
                tx.audit.append(user.name, "alert.correction_confirmed", target, {"proposed_by": pending.by})
            elif self.second_person and verdict == "true_match" and st.decision.verdict != "true_match":
                ev = repo.append(alert_id, CORRECTION_PROPOSED, verdict, by=user.name, at=now)
                tx.audit.append(
                    user.name,
                    "alert.correction_proposed",
                    target,
                    {"was": st.decision.verdict, "now": verdict, "reason": why},
                )
                return ev
            ev = repo.append(alert_id, "correction", verdict, by=user.name, at=now)
            _recount(tx, st, ev)
            tx.audit.append(
                user.name,
                "alert.verdict_corrected",
                target,
                {"was": st.decision.verdict, "now": verdict, "reason": why},
            )
            return ev

    def undo(self, user: User, alert_id: int) -> AlertEvent:
        """Undo one's own verdict (or second-person proposal) within the policy's undo window: a new
        audited event (``undone``), after which the alert is open again; the verdict row and the
        audit log are never edited. Later, a correction is recorded instead (GovernanceError: 409).

        Two-person rule: a proposal is withdrawn only by its proposer; a confirmed verdict is the
        confirmer's, so only the confirmer may undo it, and the alert is then open again (the
        proposal was used up: a true match again needs two people). The proposer may not undo it.
        """
        user.require(Permission.ADJUDICATE)
        window = self.store.policy.undo_window
        late = (
            f"the undo window ({window.total_seconds():g} s) has passed: record a correction instead"
            " (the verdict stays on record)"
        )
        with self.store.transaction() as tx:
            st = standing(tx, alert_id)
            now = tx.clock.now()
            d = st.decision
            if d.verdict is None:
                pending = tx.reviews.get(alert_id)
                if pending is None:
                    raise GovernanceError(f"alert {alert_id} has no verdict to undo")
                if pending.proposed_by != user.name:
                    raise AuthError("only the operator who proposed this verdict may withdraw it")
                if now - pending.proposed_at > window:
                    raise GovernanceError(
                        f"the undo window ({window.total_seconds():g} s) has passed: a second person confirms"
                        " or disputes the proposal"
                    )
                tx.reviews.clear(alert_id)
                undid, verdict = "proposal", pending.verdict
            else:
                if d.by != user.name:
                    raise AuthError("only the operator who recorded this verdict may undo it; record a correction")
                if d.corrected:
                    raise GovernanceError(f"alert {alert_id}'s verdict was corrected since: record a correction")
                if d.at is None or now - d.at > window:
                    raise GovernanceError(late)
                undid, verdict = "verdict", d.verdict
            ev = AlertEventRepository(tx.session).append(alert_id, "undone", undid, by=user.name, at=now)
            _recount(tx, st, ev)
            tx.audit.append(
                user.name, "alert.verdict_undone", f"alert:{alert_id}", {"undid": undid, "verdict": verdict}
            )
            return ev

    def retain(self, user: User, alert_id: int, *, reason: str, days: int) -> AlertEvent:
        """Hold the alert and its image as evidence for ``days`` (audited as ``alert.retained``)."""
        user.require(Permission.ADJUDICATE)
        if not 1 <= days <= MAX_RETAIN_DAYS:
            raise InputError(f"an alert is kept as evidence for 1 to {MAX_RETAIN_DAYS:,} days, not {days:,}")
        until = self.store.clock.now() + timedelta(days=days)
        retain_alert(self.store, user, alert_id, reason=reason, until=until, days=days)
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


def _decided(tx: Tx, alert_id: int, missing: str) -> Standing:
    """The alert as it stands, which must carry a verdict (``missing``: what to say when it does not)."""
    st = standing(tx, alert_id)
    if st.decision.verdict is None:
        raise InputError(f"alert {alert_id} {missing}")
    return st


def _recount(tx: Tx, st: Standing, ev: AlertEvent) -> None:
    """The deployment's counters follow the decision that stands after ``ev``."""
    after = effective_after(st, ev)
    recount(tx.deployments, st.alert.deployment_id, st.decision, after)
