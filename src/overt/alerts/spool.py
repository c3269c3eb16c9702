"""Encrypted alert spools: where undeliverable alerts wait, sealed, until they are sent.

A spool is a JSONL file, one record per line: ``{"v": 1, "id": <alert id>, "at": <ISO time>,
"blob": <base64 AES-256-GCM>}``. Only the random alert id and the time are in clear (the
time lets retention purge old records without a key); the alert body (subject reference,
probe crop, context frame) is sealed with the data directory's spool key, and the associated
data binds each ciphertext to its spool and record, so a line moved elsewhere does not open.
Spool folders are 0700, spool files 0600. No data directory, no spool: nothing biometric is
ever written in clear.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from overt.crypto.envelope import Aad, open_sealed, seal
from overt.errors import DecryptionError, StorageError

log = logging.getLogger(__name__)

SPOOL_VERSION = 1
FILE_MODE = 0o600
DIR_MODE = 0o700


class SpoolCipher(Protocol):
    def seal(self, plaintext: bytes, aad: Aad) -> bytes: ...

    def open(self, blob: bytes, aad: Aad) -> bytes: ...


@dataclass(frozen=True, slots=True)
class KeyCipher:
    """AES-256-GCM with one data key (the data directory's spool key)."""

    key: bytes = field(repr=False)

    def seal(self, plaintext: bytes, aad: Aad) -> bytes:
        return seal(self.key, plaintext, aad)

    def open(self, blob: bytes, aad: Aad) -> bytes:
        return open_sealed(self.key, blob, aad)


@dataclass(frozen=True, slots=True)
class SpoolRecord:
    alert_id: str
    at: datetime
    body: str = field(repr=False)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make it 0700."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        os.chmod(path, DIR_MODE)
    except OSError as exc:
        raise StorageError(f"cannot create spool folder {path}: {exc.strerror or exc}") from exc
    return path


def _write_private(path: Path, lines: Iterable[str], *, append: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fd = -1
            for line in lines:
                fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    finally:
        if fd >= 0:
            os.close(fd)


class EncryptedSpool:
    """One spool file of sealed alert records (not thread-safe: the owner holds a lock)."""

    def __init__(self, path: str | Path, cipher: SpoolCipher) -> None:
        self.path = Path(path)
        self._cipher = cipher
        private_dir(self.path.parent)

    def _aad(self, alert_id: str, at: str) -> Aad:
        return Aad("spool", f"{self.path.name}/{alert_id}/{at}")

    def _line(self, r: SpoolRecord) -> str:
        at = r.at.isoformat()
        blob = self._cipher.seal(r.body.encode("utf-8"), self._aad(r.alert_id, at))
        doc = {"v": SPOOL_VERSION, "id": r.alert_id, "at": at, "blob": base64.b64encode(blob).decode("ascii")}
        return json.dumps(doc, separators=(",", ":"))

    def append(self, records: Iterable[SpoolRecord]) -> None:
        lines = [self._line(r) for r in records]
        try:
            _write_private(self.path, lines, append=True)
        except OSError as exc:
            raise StorageError(f"cannot write spool {self.path}: {exc.strerror or exc}") from exc

    def _raw(self) -> list[str]:
        try:
            return [ln for ln in self.path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        except FileNotFoundError:
            return []

    def count(self) -> int:
        return len(self._raw())

    def read(self) -> list[SpoolRecord]:
        """Every record that opens; a line that does not (tampered, another key) is logged and dropped."""
        out: list[SpoolRecord] = []
        for n, line in enumerate(self._raw(), start=1):
            try:
                doc = json.loads(line)
                aid, at = str(doc["id"]), str(doc["at"])
                body = self._cipher.open(base64.b64decode(doc["blob"], validate=True), self._aad(aid, at))
                out.append(SpoolRecord(aid, datetime.fromisoformat(at), body.decode("utf-8")))
            except (ValueError, KeyError, TypeError, binascii.Error, DecryptionError) as exc:
                log.error("spool %s: line %d cannot be opened (%s); dropped", self.path.name, n, type(exc).__name__)
        return out

    def rewrite(self, records: Iterable[SpoolRecord]) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            _write_private(tmp, [self._line(r) for r in records], append=False)
            os.replace(tmp, self.path)
        except OSError as exc:
            raise StorageError(f"cannot rewrite spool {self.path}: {exc.strerror or exc}") from exc


def purge_spools(folder: Path, older_than: datetime) -> int:
    """Retention: drop spooled records older than ``older_than`` from every spool in ``folder``
    (no key needed: only the clear time is read). Returns how many were dropped."""
    dropped = 0
    if not folder.is_dir():
        return 0
    for path in sorted(folder.glob("*.jsonl")):
        keep: list[str] = []
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        for line in lines:
            try:
                at = datetime.fromisoformat(str(json.loads(line)["at"]))
            except (ValueError, KeyError, TypeError):
                dropped += 1  # unreadable: nothing to keep it for
                continue
            if at < older_than:
                dropped += 1
            else:
                keep.append(line)
        if len(keep) != len(lines):
            tmp = path.with_name(path.name + ".tmp")
            _write_private(tmp, keep, append=False)
            os.replace(tmp, path)
    return dropped


SPOOL_DIR = "spool"


def spool_dir(data_dir: Path) -> Path:
    """``<data-dir>/spool``: every spool of a data directory lives here (retention purges it)."""
    return data_dir / SPOOL_DIR


def data_dir_spool(data_dir: Path, name: str, key: bytes) -> EncryptedSpool:
    """The spool ``<data-dir>/spool/<name>.jsonl`` sealed with the data directory's spool ``key``."""
    if not name.replace("-", "").isalnum():
        raise StorageError(f"invalid spool name {name!r}")
    return EncryptedSpool(spool_dir(data_dir) / f"{name}.jsonl", KeyCipher(key))
