"""Alerts: the sinks (JSONL file, a text stream, a webhook with retries and a spool) and their review (``review``)."""

from __future__ import annotations

from overt.alerts.sinks import AlertSink, JsonlSink, MemorySink, StreamSink, alert_to_json
from overt.alerts.webhook import WebhookSink

__all__ = ["AlertSink", "JsonlSink", "MemorySink", "StreamSink", "WebhookSink", "alert_to_json"]
