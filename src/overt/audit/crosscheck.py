"""Cross-check of the governance tables against the audit log.

A database administrator could edit ``deployments.authorised_by`` (or the creator, the state,
the threshold, a watch-list entry's provenance) without touching the log. Each such fact must
match the log's record of who did it: the creator is the actor of ``deployment.created``, the
authorising officer of the last ``deployment.authorised``, an active or once-started deployment
has a ``deployment.started``, a closed one a ``deployment.closed`` (and only a closed one), the
threshold is the last one the log recorded; a watch-list entry was added (and, if removed,
removed) by the log's actors. With the keyed chain, the log itself cannot be rewritten to agree.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from overt.audit.anchor import Anchor, check_anchor
from overt.audit.log import AuditEntry, AuditLog, AuditProblem, AuditReport
from overt.store.models import DeploymentRow, MetaRow, WatchlistEntryRow

POLICY_META = "deployment_policy"
"""meta row of the deployment policy (``overt.deployments.policy``), checked against its last change."""

_ACTIONS = (
    "deployment.policy_changed",
    "deployment.created",
    "deployment.threshold_changed",
    "deployment.authorised",
    "deployment.started",
    "deployment.closed",
    "watchlist.entry_added",
    "watchlist.entry_removed",
)


def _problem(seq: int, msg: str) -> AuditProblem:
    return AuditProblem(seq, "governance", msg)


def _last(events: list[AuditEntry], action: str) -> AuditEntry | None:
    found = [e for e in events if e.action == action]
    return found[-1] if found else None


def _who(what: str, field: str, value: str | None, entry: AuditEntry | None, action: str) -> list[AuditProblem]:
    """The table says ``value`` did ``action`` (``field``); the log's last such entry must agree."""
    if value is None and entry is not None:
        return [_problem(entry.seq, f"{what}: the log records {action} by {entry.actor!r}, the table has no {field}")]
    if value is not None and entry is None:
        return [_problem(0, f"{what}: {field} is {value!r} but the log has no {action}")]
    if value is not None and entry is not None and entry.actor != value:
        return [_problem(entry.seq, f"{what}: {field} is {value!r}, the log says {entry.actor!r}")]
    return []


def _happened(what: str, label: str, in_table: bool, entry: AuditEntry | None, action: str) -> list[AuditProblem]:
    """The table and the log must agree whether something happened (started, closed, removed)."""
    if in_table and entry is None:
        return [_problem(0, f"{what}: {label} in the table but the log has no {action}")]
    if not in_table and entry is not None:
        return [_problem(entry.seq, f"{what}: {label} in the log but not in the table")]
    return []


def _deployment_problems(row: DeploymentRow, ev: list[AuditEntry]) -> list[AuditProblem]:
    d = f"deployment {row.id}"
    created = _last(ev, "deployment.created")
    if created is None:
        return [_problem(0, f"{d}: the log has no deployment.created entry (row written outside Overt)")]
    out = _who(d, "created_by", row.created_by, created, "deployment.created")
    auth = _last(ev, "deployment.authorised")
    out += _who(d, "authorised_by", row.authorised_by, auth, "deployment.authorised")
    if row.state != "draft" and auth is None and row.authorised_by is None:
        out.append(_problem(0, f"{d}: is {row.state} but the log has no authorisation"))
    started = row.started_at is not None or row.state == "active"
    out += _happened(d, "started", started, _last(ev, "deployment.started"), "deployment.started")
    out += _happened(d, "closed", row.state == "closed", _last(ev, "deployment.closed"), "deployment.closed")
    threshold: object = created.details.get("min_similarity")
    for e in ev:
        if e.action == "deployment.threshold_changed":
            threshold = e.details.get("to")
    if isinstance(threshold, int | float) and abs(float(threshold) - row.min_similarity) > 1e-9:
        out.append(_problem(0, f"{d}: threshold is {row.min_similarity} in the table, {threshold} in the log"))
    return out


def _entry_problems(row: WatchlistEntryRow, ev: list[AuditEntry]) -> list[AuditProblem]:
    e = f"watch-list entry {row.id}"
    added = _last(ev, "watchlist.entry_added")
    if added is None:
        return [_problem(0, f"{e}: the log has no watchlist.entry_added entry (row written outside Overt)")]
    out = _who(e, "added_by", row.added_by, added, "watchlist.entry_added")
    removed = _last(ev, "watchlist.entry_removed")
    out += _happened(e, "removed", row.removed_at is not None, removed, "watchlist.entry_removed")
    if row.removed_at is not None and removed is not None:
        out += _who(e, "removed_by", row.removed_by, removed, "watchlist.entry_removed")
    return out


def _policy_problems(row: MetaRow | None, ev: list[AuditEntry]) -> list[AuditProblem]:
    last = _last(ev, "deployment.policy_changed")
    if row is None:
        return [] if last is None else [_problem(last.seq, "the deployment policy was removed from the table")]
    if last is None:
        return [_problem(0, "the deployment policy is set but the log has no deployment.policy_changed")]
    try:
        doc = json.loads(row.value)
        same = (doc.get("max_window_h"), doc.get("min_threshold")) == (
            last.details.get("max_window_h_to"),
            last.details.get("min_threshold_to"),
        )
    except (ValueError, AttributeError):
        same = False
    return [] if same else [_problem(last.seq, "the deployment policy differs from its last recorded change")]


def governance_problems(session: Session, audit: AuditLog) -> list[AuditProblem]:
    """Every disagreement between the governance tables and the log."""
    by_target: dict[str, list[AuditEntry]] = defaultdict(list)
    for entry in audit.entries_for(_ACTIONS):
        by_target[entry.target].append(entry)
    problems = _policy_problems(session.get(MetaRow, POLICY_META), by_target.get("policy", []))
    for d in session.scalars(select(DeploymentRow).order_by(DeploymentRow.id)):
        problems += _deployment_problems(d, by_target.get(f"deployment:{d.id}", []))
    for w in session.scalars(select(WatchlistEntryRow).order_by(WatchlistEntryRow.id)):
        problems += _entry_problems(w, by_target.get(f"entry:{w.id}", []))
    return problems


def verify_all(session: Session, audit: AuditLog, *, anchor: Anchor | None = None) -> AuditReport:
    """The chain and its MACs, the anchor (if given), and the governance tables against the log."""
    report = audit.verify()
    extra = governance_problems(session, audit)
    if anchor is not None:
        extra = check_anchor(audit, anchor) + extra
    return replace(report, problems=report.problems + tuple(extra))
