"""The audit log: ``hash = sha256(prev_hash || canonical_json(entry))``, a gap-free ``seq``.

Appends are serialised: on SQLite every transaction is ``BEGIN IMMEDIATE``; on PostgreSQL a
transaction-scoped advisory lock is taken; ``seq`` is the primary key, so two appends can never
both claim the same place. The last (seq, hash) is also kept in ``meta`` so deleting entries at
the end is detected too; publish ``overt audit show --head`` elsewhere to anchor it.

Events carry user names, actions and internal ids only: never templates, images, subject
references or reasons that could name a person (callers pass ids and categories).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from overt.audit.context import current_token_id
from overt.domain.clock import Clock
from overt.errors import InputError
from overt.store.models import AuditRow, MetaRow

GENESIS_HASH = "0" * 64
HEAD_KEY = "audit_head"
_PG_LOCK_ID = 0x6F76657274  # "overt"

DetailValue = str | int | float | bool | None


def canonical_json(obj: object) -> bytes:
    """Deterministic JSON: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    action: str
    target: str
    details: Mapping[str, DetailValue] = field(default_factory=dict)
    prev_hash: str = GENESIS_HASH
    hash: str = ""

    def body(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "details": dict(self.details),
        }

    def compute_hash(self) -> str:
        return hashlib.sha256(self.prev_hash.encode("ascii") + canonical_json(self.body())).hexdigest()

    def as_dict(self) -> dict[str, object]:
        return {**self.body(), "prev_hash": self.prev_hash, "hash": self.hash}


@dataclass(frozen=True, slots=True)
class AuditProblem:
    seq: int
    kind: Literal["edited", "deleted", "reordered", "truncated"]
    message: str


@dataclass(frozen=True, slots=True)
class AuditReport:
    entries: int
    head_hash: str
    problems: tuple[AuditProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _row_to_entry(row: AuditRow) -> AuditEntry:
    try:
        details = json.loads(row.details_json)
    except ValueError:
        details = {"<unparseable>": row.details_json}
    if not isinstance(details, dict):
        details = {"<not an object>": row.details_json}
    return AuditEntry(row.seq, row.at, row.actor, row.action, row.target, details, row.prev_hash, row.hash)


class AuditLog:
    """Audit log inside one transaction (the caller's session): the event commits with the change."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self._s = session
        self._clock = clock
        self._head: tuple[int, str] | None = None  # cached within this transaction (we hold the lock)
        self._head_row: MetaRow | None = None

    def append(
        self, actor: str, action: str, target: str = "", details: Mapping[str, DetailValue] | None = None
    ) -> AuditEntry:
        details = dict(details or {})
        token_id = current_token_id()
        if token_id is not None:
            details.setdefault("via_token", token_id)
        for k, v in details.items():
            if not isinstance(v, str | int | float | bool | type(None)):
                raise InputError(f"audit detail {k!r} must be a scalar")
        if self._head is None:
            if self._s.get_bind().dialect.name == "postgresql":
                self._s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_ID})
            last = self._s.execute(select(AuditRow.seq, AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)).first()
            self._head = (0, GENESIS_HASH) if last is None else (int(last[0]), str(last[1]))
            self._head_row = self._s.get(MetaRow, HEAD_KEY)
        seq, prev = self._head[0] + 1, self._head[1]
        at = self._clock.now().isoformat(timespec="microseconds")
        entry = AuditEntry(seq, at, actor, action, target, details, prev)
        entry = AuditEntry(seq, at, actor, action, target, details, prev, entry.compute_hash())
        self._s.add(
            AuditRow(
                seq=seq,
                at=at,
                actor=actor,
                action=action,
                target=target,
                details_json=canonical_json(details).decode(),
                prev_hash=prev,
                hash=entry.hash,
            )
        )
        value = json.dumps({"seq": seq, "hash": entry.hash})
        if self._head_row is None:
            self._head_row = MetaRow(key=HEAD_KEY, value=value)
            self._s.add(self._head_row)
        else:
            self._head_row.value = value
        self._s.flush()
        self._head = (seq, entry.hash)
        return entry

    def entries(
        self, *, since: datetime | None = None, action: str | None = None, limit: int | None = None
    ) -> list[AuditEntry]:
        q = select(AuditRow).order_by(AuditRow.seq)
        if since is not None:
            q = q.where(AuditRow.at >= since.isoformat(timespec="microseconds"))
        if action is not None:
            q = q.where(AuditRow.action == action)
        rows = list(self._s.scalars(q))
        if limit is not None:
            rows = rows[-limit:]
        return [_row_to_entry(r) for r in rows]

    def count(self) -> int:
        return int(self._s.scalar(select(func.count()).select_from(AuditRow)) or 0)

    def verify(self) -> AuditReport:
        """Recompute the chain; report edited, deleted, reordered or truncated entries by number."""
        problems: list[AuditProblem] = []
        prev_hash = GENESIS_HASH
        expected = 1
        n = 0
        for row in self._s.scalars(select(AuditRow).order_by(AuditRow.seq)):
            n += 1
            entry = _row_to_entry(row)
            gap = row.seq != expected
            if gap and row.seq > expected:
                missing = f"{expected}" if row.seq == expected + 1 else f"{expected}-{row.seq - 1}"
                problems.append(AuditProblem(expected, "deleted", f"entry {missing} missing (deleted)"))
            recomputed = AuditEntry(
                row.seq, row.at, row.actor, row.action, row.target, entry.details, row.prev_hash
            ).compute_hash()
            if recomputed != row.hash:
                problems.append(
                    AuditProblem(row.seq, "edited", f"entry {row.seq}: contents do not match its hash (edited)")
                )
            if row.prev_hash != prev_hash and not gap:
                problems.append(
                    AuditProblem(
                        row.seq,
                        "reordered",
                        f"entry {row.seq}: does not follow entry {row.seq - 1} (reordered or a neighbour edited)",
                    )
                )
            prev_hash = row.hash
            expected = row.seq + 1
        head = self._s.get(MetaRow, HEAD_KEY)
        if head is not None:
            try:
                h = json.loads(head.value)
                head_seq, head_hash = int(h["seq"]), str(h["hash"])
            except (ValueError, KeyError, TypeError):
                head_seq, head_hash = -1, ""
            if head_seq >= expected:
                problems.append(
                    AuditProblem(expected, "truncated", f"entries {expected}-{head_seq} missing at the end (deleted)")
                )
            elif head_seq == expected - 1 and head_hash != prev_hash:
                problems.append(AuditProblem(head_seq, "edited", f"entry {head_seq}: differs from the recorded head"))
        elif n:
            problems.append(AuditProblem(0, "edited", "the recorded head of the log is missing"))
        return AuditReport(entries=n, head_hash=prev_hash, problems=tuple(problems))
