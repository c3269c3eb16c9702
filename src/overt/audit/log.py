"""The audit log: ``hash = sha256(prev_hash || canonical_json(entry))``, a gap-free ``seq``,
and a keyed MAC on every entry and on the recorded head.

Keyed chain: ``mac = HMAC-SHA256(K, "entry" || seq || hash)`` where ``K`` is derived with HKDF
from the audit key, a data key wrapped by the KEK (so database access alone cannot compute it,
and a KEK rotation re-wraps it like any data key: history stays verifiable). The recorded head
``(seq, hash)`` carries its own MAC, so "truncate the tail and fix the head" is detected; the
first keyed entry (``from_seq``) is recorded with a MAC too. A log written before keying (no
MACs) is keyed from a recorded genesis entry ``audit.chain_keyed`` whose MAC covers, through
its ``prev_hash``, every earlier entry. The store passes ``K`` in the session's ``info``.
Anchors (:mod:`overt.audit.anchor`) publish the head outside the database.

Appends are serialised: on SQLite every transaction is ``BEGIN IMMEDIATE``; on PostgreSQL a
transaction-scoped advisory lock is taken; ``seq`` is the primary key, so two appends can never
both claim the same place. The last (seq, hash) is also kept in ``meta`` so deleting entries at
the end is detected too; publish ``overt audit show --head`` elsewhere to anchor it.

Events carry user names, actions and internal ids only: never templates, images, subject
references or reasons that could name a person (callers pass ids and categories).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from overt.audit.context import current_token_id
from overt.domain.clock import Clock
from overt.errors import CryptoError, InputError
from overt.store.models import AuditRow, MetaRow

GENESIS_HASH = "0" * 64
HEAD_KEY = "audit_head"
AUDIT_KEY_META = "audit_key"
"""meta row: ``{"key_id": data key id, "from_seq": first keyed entry, "mac": ...}``."""
MAC_KEY_INFO = "overt.audit_mac_key"
"""``Session.info`` key under which the store passes the derived MAC key."""
_HKDF_INFO = b"overt audit chain mac v1"
_PG_LOCK_ID = 0x6F76657274  # "overt"

DetailValue = str | int | float | bool | None


def derive_mac_key(audit_key: bytes) -> bytes:
    """The MAC key of the chain: HKDF-SHA256 of the (KEK-wrapped) audit data key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(audit_key)


def _mac(key: bytes, kind: str, seq: int, value: str) -> str:
    msg = f"{kind}\x00{seq}\x00{value}".encode()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def entry_mac(key: bytes, seq: int, entry_hash: str) -> str:
    return _mac(key, "entry", seq, entry_hash)


def head_mac(key: bytes, seq: int, entry_hash: str) -> str:
    return _mac(key, "head", seq, entry_hash)


def keyed_from_mac(key: bytes, from_seq: int, key_id: str) -> str:
    return _mac(key, "keyed-from", from_seq, key_id)


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
    mac: str | None = None

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
        return {**self.body(), "prev_hash": self.prev_hash, "hash": self.hash, "mac": self.mac}


@dataclass(frozen=True, slots=True)
class AuditProblem:
    seq: int
    kind: Literal["edited", "deleted", "reordered", "truncated", "forged", "anchor", "governance"]
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
    return AuditEntry(row.seq, row.at, row.actor, row.action, row.target, details, row.prev_hash, row.hash, row.mac)


@dataclass(frozen=True, slots=True)
class KeyedFrom:
    """Where the keyed part of the chain starts, and the audit key's id (from ``meta``)."""

    key_id: str
    from_seq: int
    mac: str


def read_keyed_from(session: Session) -> KeyedFrom | None:
    row = session.get(MetaRow, AUDIT_KEY_META)
    if row is None:
        return None
    try:
        doc = json.loads(row.value)
        return KeyedFrom(str(doc["key_id"]), int(doc["from_seq"]), str(doc["mac"]))
    except (ValueError, KeyError, TypeError):
        return KeyedFrom("", 1, "")


def lock_chain(session: Session) -> None:
    """Serialise appends: SQLite already holds the write lock (BEGIN IMMEDIATE); PostgreSQL an advisory lock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_ID})


class AuditLog:
    """Audit log inside one transaction (the caller's session): the event commits with the change.

    ``mac_key`` defaults to the key the store put in ``session.info`` (every store session has it).
    """

    def __init__(self, session: Session, clock: Clock, *, mac_key: bytes | None = None) -> None:
        self._s = session
        self._clock = clock
        key = mac_key if mac_key is not None else session.info.get(MAC_KEY_INFO)
        self._key: bytes | None = key if isinstance(key, bytes) else None
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
        if self._key is None:
            raise CryptoError("the audit log's key is not available (open the store first); nothing was recorded")
        if self._head is None:
            lock_chain(self._s)
            last = self._s.execute(select(AuditRow.seq, AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)).first()
            self._head = (0, GENESIS_HASH) if last is None else (int(last[0]), str(last[1]))
            self._head_row = self._s.get(MetaRow, HEAD_KEY)
        seq, prev = self._head[0] + 1, self._head[1]
        at = self._clock.now().isoformat(timespec="microseconds")
        entry = AuditEntry(seq, at, actor, action, target, details, prev)
        digest = entry.compute_hash()
        mac = entry_mac(self._key, seq, digest)
        entry = AuditEntry(seq, at, actor, action, target, details, prev, digest, mac)
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
                mac=mac,
            )
        )
        value = json.dumps({"seq": seq, "hash": entry.hash, "mac": head_mac(self._key, seq, entry.hash)})
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

    def entries_for(self, actions: tuple[str, ...]) -> list[AuditEntry]:
        q = select(AuditRow).where(AuditRow.action.in_(actions)).order_by(AuditRow.seq)
        return [_row_to_entry(r) for r in self._s.scalars(q)]

    def entry(self, seq: int) -> AuditEntry | None:
        row = self._s.get(AuditRow, seq)
        return None if row is None else _row_to_entry(row)

    def count(self) -> int:
        return int(self._s.scalar(select(func.count()).select_from(AuditRow)) or 0)

    def head(self) -> AuditEntry | None:
        row = self._s.scalars(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1)).first()
        return None if row is None else _row_to_entry(row)

    def _keyed_from(self, problems: list[AuditProblem]) -> int | None:
        """The first keyed seq, or None (no MAC checks possible: reported)."""
        kf = read_keyed_from(self._s)
        if self._key is None:
            problems.append(AuditProblem(0, "forged", "the audit key is not available: MACs cannot be checked"))
            return None
        if kf is None:
            problems.append(AuditProblem(0, "forged", "the record of the audit key is missing (removed?)"))
            return None
        if not hmac.compare_digest(kf.mac, keyed_from_mac(self._key, kf.from_seq, kf.key_id)):
            msg = "the record of where the keyed chain starts was edited"
            problems.append(AuditProblem(kf.from_seq, "forged", msg))
            return 1
        return kf.from_seq

    def _mac_fails(self, row: AuditRow, keyed_from: int | None) -> bool:
        if self._key is None or keyed_from is None or row.seq < keyed_from:
            return False
        return row.mac is None or not hmac.compare_digest(row.mac, entry_mac(self._key, row.seq, row.hash))

    def verify(self) -> AuditReport:
        """Recompute the chain and its MACs; report edited, forged, deleted, reordered or truncated entries."""
        problems: list[AuditProblem] = []
        keyed_from = self._keyed_from(problems)
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
            elif self._mac_fails(row, keyed_from):
                problems.append(
                    AuditProblem(
                        row.seq, "forged", f"entry {row.seq}: its MAC does not verify (rewritten without the key)"
                    )
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
                head_seq, head_hash, mac = int(h["seq"]), str(h["hash"]), h.get("mac")
            except (ValueError, KeyError, TypeError):
                head_seq, head_hash, mac = -1, "", None
            keyed_head = keyed_from is not None and self._key is not None and head_seq >= keyed_from
            if keyed_head and (
                not isinstance(mac, str)
                or not hmac.compare_digest(mac, head_mac(self._key or b"", head_seq, head_hash))
            ):
                problems.append(
                    AuditProblem(
                        max(head_seq, 0), "truncated", "the recorded head of the log was rewritten (entries removed?)"
                    )
                )
            elif head_seq >= expected:
                problems.append(
                    AuditProblem(expected, "truncated", f"entries {expected}-{head_seq} missing at the end (deleted)")
                )
            elif head_seq == expected - 1 and head_hash != prev_hash:
                problems.append(AuditProblem(head_seq, "edited", f"entry {head_seq}: differs from the recorded head"))
            elif head_seq < expected - 1:
                msg = f"entries after {head_seq} were added behind the recorded head"
                problems.append(AuditProblem(head_seq + 1, "edited", msg))
        elif n:
            problems.append(AuditProblem(0, "edited", "the recorded head of the log is missing"))
        return AuditReport(entries=n, head_hash=prev_hash, problems=tuple(problems))
