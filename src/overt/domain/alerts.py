"""What leaves the pipeline: an ``Alert`` (a decided match) and nothing about anyone else."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from overt.domain._validate import as_float32, finite, non_negative
from overt.domain.quality import FaceQuality
from overt.errors import InputError


@dataclass(frozen=True, slots=True)
class Candidate:
    """One watch-list subject returned by a gallery search for one probe (best template of that subject)."""

    subject: str
    similarity: float
    rank: int

    def __post_init__(self) -> None:
        if not self.subject:
            raise InputError("candidate subject must not be empty")
        sim = finite("similarity", self.similarity)
        if not -1.0001 <= sim <= 1.0001:
            raise InputError(f"similarity must lie in [-1, 1], got {sim}")
        if self.rank < 1:
            raise InputError("candidate rank starts at 1")

    def __repr__(self) -> str:
        return f"Candidate(rank={self.rank}, similarity={self.similarity:.3f}, subject=<redacted>)"


@dataclass(frozen=True, slots=True)
class Decision:
    """Outcome of the per-track decider for one probe: ``alert`` names the subject; else abstain, with why."""

    alert: bool
    reason: str
    subject: str | None = None
    similarity: float | None = None
    votes: int = 0
    window: int = 0

    def __post_init__(self) -> None:
        if self.alert and (self.subject is None or self.similarity is None):
            raise InputError("an alert decision needs a subject and a similarity")
        if self.votes < 0 or self.window < 0 or self.votes > self.window:
            raise InputError("votes must lie in [0, window]")

    def __repr__(self) -> str:
        return f"Decision(alert={self.alert}, votes={self.votes}/{self.window}, reason={self.reason!r})"


@dataclass(frozen=True, slots=True, eq=False)
class SignedEvidence:
    """An alert's canonical record (JSON bytes), the node's Ed25519 signature of exactly those
    bytes, and the node's raw public key (see :mod:`overt.alerts.evidence`)."""

    record: bytes = field(repr=False)
    signature: bytes = field(repr=False)
    public_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not self.record.startswith(b"{") or len(self.signature) != 64 or len(self.public_key) != 32:
            raise InputError("signed evidence needs a JSON record, a 64-byte signature and a 32-byte key")


@dataclass(frozen=True, slots=True)
class PadResult:
    """A presentation-attack detector's verdict on an alert's face: ``score`` is P(live)."""

    backend: str
    score: float
    live: bool

    def __post_init__(self) -> None:
        if not 0.0 <= finite("score", self.score) <= 1.0:
            raise InputError("a PAD score lies in [0, 1]")


@dataclass(frozen=True, slots=True, eq=False)
class Alert:
    """A match decided by the decider: the only thing about a face that leaves the pipeline.

    ``probe_crop_jpeg`` is the aligned crop of the matching face, ``context_jpeg`` a small
    thumbnail of the frame in which every other face is blurred, ``scene_jpeg`` the same redacted
    frame at a size an operator can adjudicate from (the alerted face boxed; stored with the alert).
    ``latency_ms`` runs from the capture of the first frame in which the face was visible
    (``first_seen_pts_s``, stream time) to the decision.
    """

    alert_id: str
    camera_id: str
    subject: str
    similarity: float
    track_id: int
    frame_index: int
    pts_s: float
    first_seen_pts_s: float
    alerted_at: datetime
    quality: FaceQuality
    xyxy: npt.NDArray[np.float32]
    latency_ms: float
    votes: int
    window: int
    model_id: str
    probe_crop_jpeg: bytes = field(repr=False)
    context_jpeg: bytes = field(repr=False)
    scene_jpeg: bytes | None = field(default=None, repr=False)
    """The redacted scene frame (``PipelineConfig.scene_frame_px``); None from senders without one."""
    integrity_flags: tuple[str, ...] = ()
    """Stream-integrity flags of the camera when the alert was raised (``frozen``, ``loop``...)."""
    pad: PadResult | None = None
    camera_cert_sha256: str | None = None
    """The camera's pinned TLS certificate fingerprint, when the source pins one."""
    snapshot_id: str | None = None
    evidence: SignedEvidence | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name in ("alert_id", "camera_id", "subject", "model_id"):
            if not getattr(self, name):
                raise InputError(f"alert {name} must not be empty")
        sim = finite("similarity", self.similarity)
        if not -1.0001 <= sim <= 1.0001:
            raise InputError(f"similarity must lie in [-1, 1], got {sim}")
        if self.track_id < 0 or self.frame_index < 0:
            raise InputError("track_id and frame_index must be >= 0")
        non_negative("pts_s", self.pts_s)
        non_negative("first_seen_pts_s", self.first_seen_pts_s)
        if not math.isfinite(self.latency_ms):
            raise InputError("latency_ms must be finite")
        if self.alerted_at.tzinfo is None:
            raise InputError("alerted_at must be timezone-aware (UTC)")
        if not 0 < self.votes <= self.window:
            raise InputError("votes must lie in [1, window]")
        for name in ("probe_crop_jpeg", "context_jpeg", "scene_jpeg"):
            data = getattr(self, name)
            if name == "scene_jpeg" and data is None:
                continue
            if not isinstance(data, bytes) or not data.startswith(b"\xff\xd8"):
                raise InputError(f"{name} must be JPEG bytes")
        object.__setattr__(self, "xyxy", as_float32("xyxy", self.xyxy, (4,)))

    def __repr__(self) -> str:
        return (
            f"Alert(id={self.alert_id}, camera={self.camera_id!r}, track={self.track_id}, "
            f"frame={self.frame_index}, similarity={self.similarity:.3f}, subject=<redacted>)"
        )
