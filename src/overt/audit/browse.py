"""Browsing the audit log a page at a time, newest first, filtered by action, actor and time.

Reading the log is itself audited (``audit.viewed``, with the filters). Pages are keyed by
sequence number (``before_seq``), so new entries arriving meanwhile do not shift a page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from overt.audit.log import AuditLog
from overt.domain.users import Permission, User
from overt.store.models import AuditRow
from overt.store.store import Store

MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class AuditFilter:
    action: str | None = None
    """An exact action ("alert.adjudicated") or a prefix ending in a dot ("alert.")."""
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditLine:
    seq: int
    at: str
    actor: str
    action: str
    target: str
    details: dict[str, Any]
    hash: str


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: tuple[AuditLine, ...]
    matching: int
    next_before_seq: int | None
    """Pass as ``before_seq`` for the next (older) page; None: this was the last."""


def _details(raw: str) -> dict[str, Any]:
    try:
        d = json.loads(raw)
    except ValueError:
        return {"<unparseable>": raw}
    return d if isinstance(d, dict) else {"<not an object>": raw}


def browse(user: User, store: Store, f: AuditFilter, *, before_seq: int | None = None, limit: int = 100) -> AuditPage:
    user.require(Permission.VIEW_AUDIT)
    limit = max(1, min(limit, MAX_PAGE))
    conds = []
    if f.action:
        conds.append(AuditRow.action.startswith(f.action) if f.action.endswith(".") else AuditRow.action == f.action)
    if f.actor:
        conds.append(AuditRow.actor == f.actor)
    if f.since is not None:
        conds.append(AuditRow.at >= f.since.isoformat(timespec="microseconds"))
    if f.until is not None:
        conds.append(AuditRow.at < f.until.isoformat(timespec="microseconds"))
    with store.db.session() as s:
        matching = int(s.scalar(select(func.count()).select_from(AuditRow).where(*conds)) or 0)
        q = select(AuditRow).where(*conds)
        if before_seq is not None:
            q = q.where(AuditRow.seq < before_seq)
        rows = list(s.scalars(q.order_by(AuditRow.seq.desc()).limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        lines = tuple(
            AuditLine(r.seq, r.at, r.actor, r.action, r.target, _details(r.details_json), r.hash) for r in rows
        )
        shown = {k: v for k, v in (("action", f.action), ("actor", f.actor)) if v}
        AuditLog(s, store.clock).append(user.name, "audit.viewed", "audit", {"entries": len(lines), **shown})
    return AuditPage(lines, matching, rows[-1].seq if more and rows else None)
