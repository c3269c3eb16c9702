"""Retention: alerts and their images are deleted after a period unless held as evidence."""

from __future__ import annotations

from overt.retention.purge import MAX_RETAIN_DAYS, PurgeResult, purge, retain_alert

__all__ = ["MAX_RETAIN_DAYS", "PurgeResult", "purge", "retain_alert"]
