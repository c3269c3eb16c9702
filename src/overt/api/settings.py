"""Typed settings of the API server (``overt serve`` / ``overt run`` build them from flags)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field, field_validator

from overt.config import StrictModel


class ApiSettings(StrictModel):
    """How the API server behaves. Secure defaults; loosen only for plain-HTTP localhost tests."""

    data_dir: Path | None = Field(default=None, description="Overt data directory (None: the store is given).")
    secure_cookies: bool = Field(
        default=True, description="Mark cookies Secure (HTTPS only). Turn off only for plain-HTTP localhost."
    )
    session_idle_timeout_s: float = Field(default=30 * 60, gt=0, description="Idle time after which a session ends.")
    session_absolute_timeout_s: float = Field(default=12 * 3600, gt=0, description="Longest life of a session.")
    login_free_failures: int = Field(default=5, ge=1, description="Failed logins of an account before it is slowed.")
    login_backoff_s: float = Field(default=2.0, gt=0, description="First delay; doubles with each further failure.")
    login_backoff_max_s: float = Field(
        default=60.0, gt=0, description="Longest delay per account (a delay, never a lock-out)."
    )
    login_address_max_failures: int = Field(
        default=30, ge=1, description="Failed logins from one address (any account) per window before it waits."
    )
    login_address_window_s: float = Field(default=15 * 60, gt=0, description="Window of the per-address limit.")
    trusted_proxies: tuple[str, ...] = Field(
        default=(),
        description="Addresses/networks of reverse proxies whose X-Forwarded-For/-Proto are believed "
        "(none by default: the peer address is the client).",
    )
    max_json_bytes: int = Field(default=1024 * 1024, gt=0, description="Largest request body of ordinary routes.")
    max_ingest_bytes: int = Field(
        default=12 * 1024 * 1024, gt=0, description="Largest device ingest body (base64 crop, context, scene)."
    )
    shared_sessions: bool | None = Field(
        default=None,
        description="Keep sessions, their CSRF tokens and login throttling in the database, shared by every "
        "API process "
        "(None: on PostgreSQL yes, on SQLite in this process's memory).",
    )
    alert_poll_s: float = Field(
        default=0.25, gt=0, description="How often the store is polled for alerts written by another process."
    )
    ws_heartbeat_s: float = Field(
        default=2.0,
        gt=0,
        description="The alert WebSocket re-checks the session and sends a heartbeat this often; a console "
        "that hears none for a few seconds shows that it is not receiving alerts.",
    )
    second_person_confirmation: bool = Field(
        default=False, description="A true-match verdict counts only once a second operator confirms it."
    )
    token_default_days: int = Field(default=90, ge=1, le=3650, description="Default lifetime of a new API token.")
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, gt=0, description="Largest accepted image upload.")
    public_rate_limit_per_min: int = Field(
        default=120, ge=1, description="Requests per minute per client address to the public site /public/."
    )
    max_upload_pixels: int = Field(
        default=40_000_000, gt=0, description="Largest uploaded image (width x height), checked from its header."
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for v in value:
            ipaddress.ip_network(v.strip(), strict=False)  # ValueError names the bad one
        return value
