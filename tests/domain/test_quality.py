from __future__ import annotations

import math

import pytest

from overt.domain.quality import FaceQuality, QualityGate, QualityVerdict
from overt.errors import InputError

GOOD = FaceQuality(size_px=120, inter_eye_px=50, det_score=0.9, sharpness=100, yaw_deg=5, roll_deg=-3)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("size_px", -1.0),
        ("size_px", math.nan),
        ("inter_eye_px", -0.5),
        ("sharpness", -1.0),
        ("sharpness", math.inf),
        ("yaw_deg", math.nan),
        ("roll_deg", math.inf),
        ("det_score", 1.01),
        ("det_score", -0.01),
        ("det_score", math.nan),
    ],
)
def test_face_quality_validation(field: str, value: float) -> None:
    kwargs = {"size_px": 100.0, "inter_eye_px": 40.0, "det_score": 0.9, "sharpness": 50.0, "yaw_deg": 0.0}
    kwargs["roll_deg"] = 0.0
    kwargs[field] = value
    with pytest.raises(InputError):
        FaceQuality(**kwargs)


def test_score_in_unit_interval_and_ordered() -> None:
    worse = FaceQuality(size_px=30, inter_eye_px=12, det_score=0.6, sharpness=10, yaw_deg=40, roll_deg=20)
    assert 0.0 <= worse.score() < GOOD.score() <= 1.0
    perfect = FaceQuality(size_px=500, inter_eye_px=200, det_score=1.0, sharpness=1e6, yaw_deg=0, roll_deg=0)
    assert perfect.score() == pytest.approx(1.0)
    turned = FaceQuality(size_px=500, inter_eye_px=200, det_score=1.0, sharpness=1e6, yaw_deg=90, roll_deg=0)
    assert turned.score() == pytest.approx(0.7)


def test_gate_passes_good_face() -> None:
    v = QualityGate().check(GOOD)
    assert v.ok
    assert bool(v)
    assert v.reasons == ()
    assert QualityGate.for_enrolment().check(GOOD).ok


def test_gate_lists_every_reason() -> None:
    bad = FaceQuality(size_px=20, inter_eye_px=8, det_score=0.3, sharpness=2, yaw_deg=-60, roll_deg=40)
    v = QualityGate().check(bad)
    assert not v
    assert len(v.reasons) == 5
    text = " ".join(v.reasons)
    for word in ("small", "score", "blurred", "turned", "tilted"):
        assert word in text


def test_enrolment_is_stricter() -> None:
    mid = FaceQuality(size_px=50, inter_eye_px=20, det_score=0.55, sharpness=17, yaw_deg=35, roll_deg=27)
    assert QualityGate().check(mid).ok
    assert len(QualityGate.for_enrolment().check(mid).reasons) == 5


@pytest.mark.parametrize("field", ["min_size_px", "min_det_score", "min_sharpness", "max_abs_yaw_deg"])
def test_gate_validation(field: str) -> None:
    with pytest.raises(InputError):
        QualityGate(**{field: -1.0})
    with pytest.raises(InputError):
        QualityGate(**{field: math.nan})


def test_verdict_bool() -> None:
    assert not QualityVerdict(ok=False, reasons=("x",))
