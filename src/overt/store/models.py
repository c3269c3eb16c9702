"""SQLAlchemy 2 table models. Columns named ``*_blob`` hold AES-GCM ciphertext only.

Nothing here that identifies or depicts a person is stored in the clear: subject references,
reasons, images and templates live in sealed blobs; the reference's uniqueness is enforced
with a keyed blind index (``ref_index``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class MetaRow(Base):
    """Small key/value facts about the store (KEK fingerprint, audit head, index key id)."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class DataKeyRow(Base):
    """A data key wrapped by the KEK. ``wrapped`` is NULL once destroyed (crypto-shredded)."""

    __tablename__ = "data_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    kek_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    destroyed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class DeploymentRow(Base):
    __tablename__ = "deployments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    state: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(Text)
    geofence_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    planned_start: Mapped[datetime] = mapped_column(UtcDateTime)
    planned_end: Mapped[datetime] = mapped_column(UtcDateTime)
    criteria: Mapped[str] = mapped_column(Text)
    categories: Mapped[str] = mapped_column(Text)
    min_similarity: Mapped[float] = mapped_column(Float)
    threshold_justification: Mapped[str] = mapped_column(Text)
    calibration_profile: Mapped[str | None] = mapped_column(String(128), nullable=True)
    expected_false_alerts_per_1000: Mapped[float | None] = mapped_column(Float, nullable=True)
    notice_confirmed: Mapped[bool] = mapped_column(Boolean)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    authorised_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    authorised_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    stop_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    faces_processed: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    alerts_raised: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    alerts_true: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    alerts_false: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    engagements: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    outcomes_json: Mapped[str] = mapped_column(Text, default="{}", server_default=text("'{}'"))
    notice_published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    notice_published_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    late_start_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    late_start_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    estimate_basis: Mapped[str | None] = mapped_column(Text, nullable=True)
    category_counts_json: Mapped[str | None] = mapped_column(Text, nullable=True)


class WatchlistEntryRow(Base):
    __tablename__ = "watchlist_entries"
    __table_args__ = (
        Index(
            "uq_watchlist_active_ref",
            "ref_index",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ref_index: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    legal_basis: Mapped[str] = mapped_column(Text)
    taken_on: Mapped[date] = mapped_column(Date)
    review_on: Mapped[date] = mapped_column(Date)
    under_18: Mapped[bool] = mapped_column(Boolean)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    removed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    model_id: Mapped[str] = mapped_column(String(64))
    details_blob: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    image_blob: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    template_blob: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # The removal reason, sealed under its own key (the entry's key is destroyed at removal).
    removal_key_id: Mapped[str | None] = mapped_column(ForeignKey("data_keys.id"), nullable=True)
    removal_reason_blob: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class SnapshotRow(Base):
    __tablename__ = "snapshots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"), unique=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("data_keys.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    entry_count: Mapped[int] = mapped_column(Integer)
    model_id: Mapped[str] = mapped_column(String(64))
    blob: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    destroyed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class AlertRow(Base):
    """Generic alert record; the pipeline's ``Alert`` maps onto it. The crop is sealed."""

    __tablename__ = "alerts"
    __table_args__ = ({"sqlite_autoincrement": True},)  # a purged alert's id is never reused
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"), index=True)
    camera_id: Mapped[str] = mapped_column(String(64))
    entry_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    similarity: Mapped[float] = mapped_column(Float)
    track_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    key_id: Mapped[str | None] = mapped_column(ForeignKey("data_keys.id"), nullable=True)
    crop_blob: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    adjudication: Mapped[str | None] = mapped_column(String(16), nullable=True)
    adjudicated_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    adjudicated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    engaged: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(64), nullable=True)
    retained_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    retention_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class AuditRow(Base):
    """One hash-chained, MACed audit entry. ``seq`` is the unique, gap-free sequence number."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(64))
    details_json: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    mac: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """HMAC of (seq, hash) under the audit key; NULL only for entries written before keying."""


class ApiTokenRow(Base):
    """An API token, stored only as its SHA-256 (migration ``0002_api``)."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    user_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    deployment_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    cameras_json: Mapped[str | None] = mapped_column(Text, nullable=True)  # device: camera ids allowed (0003)


class AlertReviewRow(Base):
    """A first adjudication waiting for a second person's confirmation."""

    __tablename__ = "alert_reviews"
    alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    verdict: Mapped[str] = mapped_column(String(16))
    engaged: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str | None] = mapped_column(String(64), nullable=True)
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AlertDetailsRow(Base):
    """Non-biometric facts of an alert the console shows: face quality, latency, frame index."""

    __tablename__ = "alert_details"
    alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    remote_id: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    details_json: Mapped[str] = mapped_column(Text)


class AlertEventRow(Base):
    """A later step on an alert (outcome, correction, retention), appended, never an edit (``0003_console``)."""

    __tablename__ = "alert_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(64))
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class AlertEvidenceRow(Base):
    """An alert's signed record, signature, signing key and context image, sealed under the
    alert's own data key (migration ``0003_integrity``); purging the alert shreds it too."""

    __tablename__ = "alert_evidence"
    alert_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    fingerprint: Mapped[str] = mapped_column(String(64))
    verified: Mapped[bool] = mapped_column(Boolean)
    blob: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class AlertSceneRow(Base):
    """An alert's redacted scene frame (bystanders blurred, the alerted face boxed), sealed under the
    alert's own data key with the alert id as associated data (migration ``0005_scene``); purging the
    alert shreds it with the crop, retaining the alert keeps it."""

    __tablename__ = "alert_scenes"
    alert_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    blob: Mapped[bytes] = mapped_column(LargeBinary)


class DeviceKeyRow(Base):
    """The Ed25519 public key registered with a device token (migration ``0003_integrity``)."""

    __tablename__ = "device_keys"
    token_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    fingerprint: Mapped[str] = mapped_column(String(64))
    registered_by: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LeaseRow(Base):
    """Who runs a piece of work (``deployment:<id>``) until when (migration ``0003_scale_centre``).

    Times are the database's own clock in epoch seconds, so hosts with skewed clocks agree.
    """

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_s: Mapped[float] = mapped_column(Float)
    acquired_s: Mapped[float] = mapped_column(Float)
    # the fencing token: +1 at each acquisition by a new holder, never reset (migration 0005_fencing)
    epoch: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class CameraHeartbeatRow(Base):
    """When a camera of a deployment last had a frame processed (migration ``0005_liveness``).

    One row per camera (its configured id, never a person or a path), upserted at most about once
    a second by whichever process runs or receives that camera's pipeline; every API process reads
    it. Times are the database's clock in epoch seconds (a sender reports an age, not a time).
    """

    __tablename__ = "camera_heartbeats"
    deployment_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    first_frame_at_s: Mapped[float] = mapped_column(Float)
    last_frame_at_s: Mapped[float] = mapped_column(Float)
    reported_at_s: Mapped[float] = mapped_column(Float)
    frames: Mapped[int] = mapped_column(BigInteger)
    fps: Mapped[float] = mapped_column(Float)


class WebSessionRow(Base):
    """A console session, shared by every API process (only the SHA-256 of the cookie id)."""

    __tablename__ = "web_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    csrf: Mapped[str] = mapped_column(String(64))
    user_name: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    created_s: Mapped[float] = mapped_column(Float)
    last_seen_s: Mapped[float] = mapped_column(Float, index=True)
    data_json: Mapped[str] = mapped_column(Text, default="{}")
    address_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    """Anonymous sessions: the client address's keyed digest, for the per-address cap (0005_fanout)."""


class LoginBackoffRow(Base):
    """Consecutive failed logins of an account (``address`` empty) or of an account from an address
    it logged in from before; shared by every API process (migration ``0004_db_throttle``)."""

    __tablename__ = "login_backoffs"
    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    until_s: Mapped[float] = mapped_column(Float, index=True)


class LoginFailureRow(Base):
    """One failed login from a source address (kept for the per-address window only)."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at_s: Mapped[float] = mapped_column(Float, index=True)


class LoginKnownRow(Base):
    """An address an account has logged in from, and when it last did."""

    __tablename__ = "login_known"
    account: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_s: Mapped[float] = mapped_column(Float, index=True)
