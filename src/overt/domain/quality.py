"""Face quality measures and the gate that uses them."""

from __future__ import annotations

from dataclasses import dataclass

from overt.domain._validate import finite, non_negative
from overt.errors import InputError


@dataclass(frozen=True, slots=True)
class FaceQuality:
    """Quality of one detected face.

    ``size_px``: shorter side of the face box; ``inter_eye_px``: distance between the eye
    landmarks; ``det_score``: detector confidence; ``sharpness``: variance of the Laplacian of
    the 112x112 aligned grey crop (higher is sharper); ``yaw_deg``/``roll_deg``: head pose
    estimated from the five landmarks (0 = frontal, upright).
    """

    size_px: float
    inter_eye_px: float
    det_score: float
    sharpness: float
    yaw_deg: float
    roll_deg: float

    def __post_init__(self) -> None:
        non_negative("size_px", self.size_px)
        non_negative("inter_eye_px", self.inter_eye_px)
        non_negative("sharpness", self.sharpness)
        finite("yaw_deg", self.yaw_deg)
        finite("roll_deg", self.roll_deg)
        if not 0.0 <= self.det_score <= 1.0:
            raise InputError(f"det_score must lie in [0, 1], got {self.det_score}")

    def score(self) -> float:
        """One number to rank faces of a track (higher is better), in [0, 1]."""
        size = min(self.size_px / 112.0, 1.0)
        sharp = min(self.sharpness / 200.0, 1.0)
        pose = max(0.0, 1.0 - abs(self.yaw_deg) / 60.0) * max(0.0, 1.0 - abs(self.roll_deg) / 60.0)
        return float(self.det_score * (0.4 * size + 0.3 * sharp + 0.3 * pose))


@dataclass(frozen=True, slots=True)
class QualityVerdict:
    """Outcome of a quality gate: ``ok`` and, when not, every reason it failed."""

    ok: bool
    reasons: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.ok


@dataclass(frozen=True, slots=True)
class QualityGate:
    """Minimum quality for a purpose. Each ``min_*`` is strict below, each ``max_*`` strict above.

    The defaults suit live probes; enrolment uses :meth:`for_enrolment` (stricter).
    """

    min_size_px: float = 40.0
    min_det_score: float = 0.5
    min_sharpness: float = 15.0
    max_abs_yaw_deg: float = 45.0
    max_abs_roll_deg: float = 30.0

    def __post_init__(self) -> None:
        for name in ("min_size_px", "min_det_score", "min_sharpness", "max_abs_yaw_deg", "max_abs_roll_deg"):
            non_negative(name, getattr(self, name))

    @classmethod
    def for_enrolment(cls) -> QualityGate:
        return cls(min_size_px=64.0, min_det_score=0.6, min_sharpness=20.0, max_abs_yaw_deg=30.0, max_abs_roll_deg=25.0)

    def check(self, q: FaceQuality) -> QualityVerdict:
        reasons: list[str] = []
        if q.size_px < self.min_size_px:
            reasons.append(f"face too small ({q.size_px:.0f} px < {self.min_size_px:.0f} px)")
        if q.det_score < self.min_det_score:
            reasons.append(f"detector score too low ({q.det_score:.2f} < {self.min_det_score:.2f})")
        if q.sharpness < self.min_sharpness:
            reasons.append(f"too blurred (sharpness {q.sharpness:.1f} < {self.min_sharpness:.1f})")
        if abs(q.yaw_deg) > self.max_abs_yaw_deg:
            reasons.append(f"head turned too far (yaw {q.yaw_deg:+.0f} deg, limit {self.max_abs_yaw_deg:.0f})")
        if abs(q.roll_deg) > self.max_abs_roll_deg:
            reasons.append(f"head tilted too far (roll {q.roll_deg:+.0f} deg, limit {self.max_abs_roll_deg:.0f})")
        return QualityVerdict(ok=not reasons, reasons=tuple(reasons))
