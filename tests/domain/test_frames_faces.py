from __future__ import annotations

import math

import numpy as np
import pytest

from overt.domain.faces import Face
from overt.domain.frames import Frame
from overt.domain.quality import FaceQuality
from overt.domain.templates import Template
from overt.errors import InputError

Q = FaceQuality(size_px=100, inter_eye_px=40, det_score=0.9, sharpness=50, yaw_deg=0, roll_deg=0)
IMG = np.zeros((4, 6, 3), np.uint8)


def test_frame_ok() -> None:
    f = Frame(camera_id="cam", index=0, pts_s=0.0, captured_monotonic_s=12.5, image=IMG)
    assert (f.width_px, f.height_px) == (6, 4)
    assert "image" not in repr(f)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"camera_id": ""},
        {"index": -1},
        {"pts_s": -0.1},
        {"pts_s": math.nan},
        {"captured_monotonic_s": math.inf},
        {"image": np.zeros((4, 6), np.uint8)},
        {"image": np.zeros((4, 6, 4), np.uint8)},
        {"image": np.zeros((4, 6, 3), np.float32)},
        {"image": np.zeros((0, 6, 3), np.uint8)},
        {"image": [[0, 0, 0]]},
    ],
)
def test_frame_validation(kwargs: dict[str, object]) -> None:
    base: dict[str, object] = {"camera_id": "cam", "index": 0, "pts_s": 0.0, "captured_monotonic_s": 0.0, "image": IMG}
    base.update(kwargs)
    with pytest.raises(InputError):
        Frame(**base)  # type: ignore[arg-type]


def test_face_repr_has_no_vector_or_pixels() -> None:
    t = Template(vector=np.array([0.31415, 0.27182, 0.5], np.float32), model_id="m")
    f = Face(
        xyxy=np.array([1, 2, 30, 40], np.float32),
        landmarks5=np.zeros((5, 2), np.float32),
        quality=Q,
        template=t,
        crop=IMG,
    )
    text = repr(f)
    assert "redacted" in text
    assert "314" not in text
    assert "271" not in text
    assert "crop" not in text
    assert f.xyxy.dtype == np.float32


@pytest.mark.parametrize(
    "kwargs",
    [
        {"xyxy": np.zeros(3)},
        {"xyxy": np.array([0, 0, math.nan, 1])},
        {"landmarks5": np.zeros((4, 2))},
        {"crop": np.zeros((4, 4, 3), np.float32)},
        {"crop": np.zeros((4, 4), np.uint8)},
    ],
)
def test_face_validation(kwargs: dict[str, object]) -> None:
    base: dict[str, object] = {"xyxy": np.zeros(4), "landmarks5": np.zeros((5, 2)), "quality": Q}
    base.update(kwargs)
    with pytest.raises(InputError):
        Face(**base)  # type: ignore[arg-type]
