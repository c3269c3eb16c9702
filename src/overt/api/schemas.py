"""Request and response bodies of the REST API (pydantic; ``extra="forbid"`` on input).

Nothing here carries a template. Watch-list entries carry provenance and the encrypted
details only to roles that manage the list; images are separate, audited endpoints.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from overt.domain.watchlist import Category

MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID, description="A positive row id.")]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    detail: str


class LoginIn(In):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class Me(BaseModel):
    name: str
    role: str
    via: Literal["session", "token"]
    csrf_token: str | None = None
    must_change_password: bool = False


class CsrfOut(BaseModel):
    csrf_token: str


class UserOut(BaseModel):
    id: int
    name: str
    role: str
    created_at: datetime
    disabled: bool
    must_change_password: bool = False


class UserIn(In):
    name: str = Field(min_length=2, max_length=64)
    role: Literal["admin", "authorising_officer", "watchlist_manager", "operator", "auditor"]
    password: str = Field(min_length=12, max_length=1024)
    must_change_password: bool = Field(default=False, description="Ask the user to change it at first login.")


class TokenIn(In):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: Literal["device", "user"]
    user_name: str | None = Field(
        default=None,
        max_length=64,
        description="For kind=user: omit it (the token acts as its creator; any other name is refused).",
    )
    deployment_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="For kind=device: the deployment it posts to."
    )
    days: int | None = Field(default=None, ge=1, le=3650, description="Lifetime in days (default from settings).")
    signing_public_key_b64: str | None = Field(
        default=None,
        max_length=100,
        description="For kind=device: the edge node's raw Ed25519 public key; its alerts must then be signed by it.",
    )
    cameras: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        default=None, max_length=64, description="For kind=device: the camera ids it may post for (default: any)."
    )


class TokenOut(BaseModel):
    id: int
    name: str
    kind: str
    user_name: str | None
    deployment_id: int | None
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    cameras: list[str] | None = None


class TokenCreated(TokenOut):
    token: str = Field(description="The secret, shown once; only its hash is stored.")


class DeploymentIn(In):
    purpose: str = Field(min_length=1, max_length=2000)
    legal_basis: str = Field(min_length=1, max_length=2000)
    place: str = Field(min_length=1, max_length=2000)
    planned_start: datetime
    planned_end: datetime
    criteria: str = Field(min_length=1, max_length=2000)
    categories: list[Category] = Field(min_length=1, max_length=10)
    min_similarity: float = Field(gt=0, lt=1)
    threshold_justification: str = Field(min_length=1, max_length=2000)
    calibration_profile: str | None = Field(default=None, max_length=128)
    geofence: list[tuple[float, float]] | None = Field(
        default=None, min_length=3, max_length=200, description="Polygon of (latitude, longitude) vertices."
    )


class SnapshotOut(BaseModel):
    entry_count: int
    model_id: str
    created_at: datetime
    destroyed_at: datetime | None


class DeploymentOut(BaseModel):
    id: int
    state: str
    purpose: str
    legal_basis: str
    place: str
    planned_start: datetime
    planned_end: datetime
    criteria: str
    categories: list[str]
    min_similarity: float
    threshold_justification: str
    expected_false_alerts_per_1000: float | None
    notice_published_at: datetime | None = Field(description="When its public notice was published.")
    late_start_by: str | None = Field(description="The officer who approved an urgent start before the lead time.")
    late_start_reason: str | None = Field(description="Why (shown on the public page).")
    created_by: str
    created_at: datetime
    authorised_by: str | None
    authorised_at: datetime | None
    started_at: datetime | None
    stopped_at: datetime | None
    stop_reason: str | None
    closed_at: datetime | None
    expired: bool = Field(description="Its planned end has passed.")
    faces_processed: int
    alerts_raised: int
    snapshot: SnapshotOut | None


class AuthorisationOut(BaseModel):
    deployment: DeploymentOut
    watchlist_size: int
    expected_false_alerts_per_1000: float
    estimate_basis: str
    look_alikes: int


class LateStartIn(In):
    reason: str = Field(min_length=10, max_length=500, description="Why it must start before the notice lead time.")


class StopIn(In):
    reason: str = Field(default="stopped by operator", min_length=1, max_length=64)


class QualityOut(BaseModel):
    size_px: float | None = None
    det_score: float | None = None
    sharpness: float | None = None
    yaw_deg: float | None = None
    roll_deg: float | None = None


class PendingOut(BaseModel):
    verdict: str
    engaged: bool
    outcome: str | None
    proposed_by: str
    proposed_at: datetime


class AlertEventOut(BaseModel):
    kind: str = Field(
        description="outcome, correction, retained, undone, verdict (a verdict after an undo),"
        " corr_proposed (a correction awaiting a second person) or corr_disputed.",
    )
    value: str
    by: str
    at: datetime


class PadOut(BaseModel):
    """The presentation-attack detector's verdict on an alert's face."""

    backend: str
    score: float = Field(description="P(live).")
    live: bool


class AlertOut(BaseModel):
    id: int
    deployment_id: int
    camera_id: str
    entry_id: int | None
    category: str | None
    similarity: float
    track_id: str | None
    raised_at: datetime
    has_crop: bool
    quality: QualityOut
    latency_ms: float | None
    adjudication: str | None
    engaged: bool | None
    outcome: str | None
    pending: PendingOut | None
    adjudicated_by: str | None = Field(default=None, description="Who recorded the verdict.")
    adjudicated_at: datetime | None = Field(default=None, description="When the verdict was recorded.")
    retained_until: datetime | None = Field(default=None, description="Held as evidence until then.")
    sightings: int = Field(default=1, description="Alerts of this deployment naming the same entry.")
    events: list[AlertEventOut] = Field(default_factory=list, description="Later outcomes, corrections, retention.")
    has_scene: bool = Field(default=False, description="A redacted scene frame is stored (GET .../scene).")
    integrity_flags: list[str] = Field(
        default_factory=list, description="Camera stream integrity flags when the alert was raised."
    )
    pad: PadOut | None = Field(default=None, description="Presentation-attack (liveness) verdict, when PAD ran.")
    undo_until: datetime | None = Field(
        default=None, description="Until when the person who made the verdict (or proposal) may undo it."
    )
    as_of: datetime | None = Field(
        default=None, description="When the server began reading this view: a console keeps the later of two."
    )


Outcome = Literal["engaged", "arrested", "no_action"]


class AdjudicationIn(In):
    verdict: Literal["true_match", "false_match"]
    outcome: Outcome | None = Field(default=None, description="For a true match: what happened.")


class AdjudicationOut(BaseModel):
    alert: AlertOut
    counted: bool = Field(description="False while the verdict awaits a second person's confirmation.")


class EntryOut(BaseModel):
    id: int
    category: str
    legal_basis: str
    taken_on: date
    review_on: date
    under_18: bool
    added_by: str
    added_at: datetime
    model_id: str
    removed_at: datetime | None
    subject_ref: str | None = Field(default=None, description="Only for watch-list managers.")


class EnrolmentOut(BaseModel):
    entry_id: int
    warnings: list[str]
    quality: QualityOut


class RemoveIn(In):
    reason: str = Field(min_length=1, max_length=500)


class AuditEntryOut(BaseModel):
    seq: int
    at: str
    actor: str
    action: str
    target: str
    details: dict[str, str | int | float | bool | None]
    hash: str


class AuditProblemOut(BaseModel):
    seq: int
    kind: str
    message: str


class AuditVerifyOut(BaseModel):
    ok: bool
    entries: int
    head_hash: str
    problems: list[AuditProblemOut]


class IngestQuality(BaseModel):
    model_config = ConfigDict(extra="ignore")
    size_px: float = Field(ge=0)
    det_score: float = Field(ge=0, le=1)
    sharpness: float = Field(ge=0)
    yaw_deg: float = Field(ge=-180, le=180)
    roll_deg: float = Field(ge=-180, le=180)


class IngestEvidence(BaseModel):
    """The edge node's signature of the alert (``overt.alerts.evidence``), all base64."""

    model_config = ConfigDict(extra="ignore")
    record_b64: str = Field(min_length=4, max_length=20_000)
    signature_b64: str = Field(min_length=4, max_length=200)
    public_key_b64: str = Field(min_length=4, max_length=200)


class IngestPad(BaseModel):
    """The presentation-attack detector's verdict on the alert's face."""

    model_config = ConfigDict(extra="ignore")
    backend: str = Field(min_length=1, max_length=64)
    score: float = Field(ge=0, le=1, description="P(live).")
    live: bool


class IngestAlertIn(BaseModel):
    """The JSON an edge pipeline's webhook sink posts (``overt.alerts.sinks.alert_to_json``)."""

    model_config = ConfigDict(extra="ignore")
    alert_id: str = Field(min_length=1, max_length=64)
    subject: str = Field(min_length=1, max_length=64, description="The snapshot's entry id.")
    similarity: float = Field(ge=-1, le=1)
    camera: str = Field(min_length=1, max_length=64)
    track_id: int | str = Field(union_mode="left_to_right")
    alerted_at: datetime
    latency_ms: float | None = None
    frame_index: int | None = Field(default=None, ge=0, le=2**53)
    quality: IngestQuality | None = None
    probe_crop_jpeg_b64: str | None = Field(default=None, max_length=4_000_000)
    context_jpeg_b64: str | None = Field(
        default=None, max_length=4_000_000, description="Redacted frame thumbnail (bystanders blurred); kept in memory."
    )
    scene_jpeg_b64: str | None = Field(
        default=None,
        max_length=4_000_000,
        description="Redacted scene frame (bystanders blurred, the alerted face boxed); sealed with the alert.",
    )
    integrity_flags: list[str] = Field(default_factory=list, max_length=16, description="Camera integrity flags.")
    pad: IngestPad | None = Field(default=None, description="Presentation-attack verdict, when PAD is configured.")
    evidence: IngestEvidence | None = Field(
        default=None, description="Signed record; required once a key is registered."
    )


class IngestOut(BaseModel):
    alert_id: int
    duplicate: bool


class HealthOut(BaseModel):
    status: Literal["ok"]
    version: str


class LiveOut(BaseModel):
    deployment_id: int
    state: str
    expired: bool
    camera_connected: bool
    processing: bool = Field(
        description="A camera of it had a frame processed within the live window (its heartbeat, any process)."
    )
    camera_message: str
    has_frame: bool
    frame_age_s: float | None


class PublicSettingsIn(In):
    """Fields of the public site to change (omitted fields keep their value)."""

    force_name: str | None = Field(default=None, min_length=1, max_length=200)
    contact_email: str | None = Field(default=None, max_length=200)
    contact_phone: str | None = Field(default=None, max_length=50)
    contact_address: str | None = Field(default=None, max_length=500)
    complaints_url: str | None = Field(default=None, max_length=500)
    equality_assessment_url: str | None = Field(default=None, max_length=500)
    dpia_url: str | None = Field(default=None, max_length=500)
    public_base_url: str | None = Field(default=None, max_length=500)


class PublicSettingsOut(BaseModel):
    force_name: str
    contact_email: str | None
    contact_phone: str | None
    contact_address: str | None
    complaints_url: str | None
    equality_assessment_url: str | None
    dpia_url: str | None
    public_base_url: str | None
