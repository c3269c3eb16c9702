"""Append-only, hash-chained audit log (no biometric data in it)."""

from __future__ import annotations

from overt.audit.log import GENESIS_HASH, AuditEntry, AuditLog, AuditProblem, AuditReport, canonical_json

__all__ = ["GENESIS_HASH", "AuditEntry", "AuditLog", "AuditProblem", "AuditReport", "canonical_json"]
