"""Anchors: the head of the audit log published outside the database, and checked later.

``overt audit anchor`` writes ``{"seq", "hash", "at", "anchored_at"}`` of the newest entry to a
file, stdout or a webhook. Keep it somewhere the database's administrators cannot edit (another
host, a ticket, a printed report). ``overt audit verify --anchor FILE`` then checks that the log
still holds that entry with that hash: a log truncated to before it, or rewritten at or before
it (even with the key), no longer matches. An anchor is public: it holds no key and no name.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from overt.audit.log import AuditLog, AuditProblem
from overt.errors import ConfigError, InputError, StorageError

_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class Anchor:
    seq: int
    hash: str
    at: str
    anchored_at: str

    def __post_init__(self) -> None:
        if self.seq < 1 or len(self.hash) != 64 or not set(self.hash) <= _HEX:
            raise InputError("an anchor needs a positive seq and a 64-hex-digit hash")

    def to_json(self) -> dict[str, object]:
        return {"seq": self.seq, "hash": self.hash, "at": self.at, "anchored_at": self.anchored_at}

    @classmethod
    def from_json(cls, doc: object) -> Anchor:
        if not isinstance(doc, dict):
            raise InputError("an anchor is a JSON object")
        try:
            return cls(int(doc["seq"]), str(doc["hash"]), str(doc.get("at", "")), str(doc.get("anchored_at", "")))
        except (KeyError, TypeError, ValueError):
            raise InputError("an anchor needs seq and hash") from None


def make_anchor(audit: AuditLog, now: datetime) -> Anchor:
    head = audit.head()
    if head is None:
        raise InputError("the audit log is empty: nothing to anchor yet")
    return Anchor(head.seq, head.hash, head.at, now.isoformat(timespec="seconds"))


def read_anchor(path: Path) -> Anchor:
    try:
        return Anchor.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise InputError(f"anchor file {path} not found") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"anchor file {path}: {exc}") from None


def write_anchor(anchor: Anchor, path: Path) -> None:
    """Write atomically (temp file + rename), so a reader never sees half an anchor."""
    text = json.dumps(anchor.to_json(), indent=2) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".anchor-", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise StorageError(f"cannot write the anchor to {path}: {exc}") from None


def post_anchor(anchor: Anchor, url: str, *, timeout_s: float = 10.0) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"anchor webhook URL must be http(s)://host/..., got {url!r}")
    try:
        r = httpx.post(url, json={"type": "overt.audit_anchor", **anchor.to_json()}, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise StorageError(f"the anchor could not be posted: {exc}") from None
    if r.status_code >= 300:
        raise StorageError(f"the anchor webhook answered HTTP {r.status_code}")


def check_anchor(audit: AuditLog, anchor: Anchor) -> list[AuditProblem]:
    """The log must still hold the anchored entry, unchanged."""
    entry = audit.entry(anchor.seq)
    if entry is None:
        msg = f"entry {anchor.seq} of the anchor is missing: the log was truncated or renumbered"
        return [AuditProblem(anchor.seq, "anchor", msg)]
    if entry.hash != anchor.hash:
        return [
            AuditProblem(
                anchor.seq, "anchor", f"entry {anchor.seq} differs from the anchor: history up to it was rewritten"
            )
        ]
    return []
