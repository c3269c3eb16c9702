"""The presentation-attack stage with ONNX models built by the tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from overt.config import PadConfig, build_pad
from overt.errors import ConfigError, ModelError
from overt.vision.pad import OnnxPad, PresentationAttackDetector, face_crop, judge
from tests.vision.pad_models import brightness_pad, constant_pad

BOX = np.array([40, 30, 120, 130], np.float32)


def test_onnx_pad_scores_bright_faces_live_and_dark_ones_attacks(tmp_path: Path) -> None:
    pad = build_pad(brightness_pad(tmp_path / "pad.onnx"))
    assert isinstance(pad, PresentationAttackDetector)
    assert pad.name.startswith("onnx:")
    bright = np.full((200, 200, 3), 230, np.uint8)
    dark = np.full((200, 200, 3), 20, np.uint8)
    assert pad.live_score(bright, BOX) > 0.99
    assert pad.live_score(dark, BOX) < 0.01
    r = judge(pad, dark, BOX, 0.5)
    assert not r.live
    assert r.backend == pad.name


def test_declared_preprocessing_is_applied(tmp_path: Path) -> None:
    cfg = brightness_pad(tmp_path / "pad.onnx", size_px=24).model_copy(
        update={"channel_order": "bgr", "mean": (10.0, 10.0, 10.0), "std": (2.0, 2.0, 2.0), "crop_scale": 2.0}
    )
    pad = build_pad(cfg)
    assert isinstance(pad, OnnxPad)
    x = pad.preprocess(np.full((100, 100, 3), 50, np.uint8), BOX)
    assert x.shape == (1, 3, 24, 24)
    assert x.dtype == np.float32
    assert np.isclose(float(x.max()), 20.0)  # (50 - 10) / 2
    assert float(x.min()) == pytest.approx(-5.0)  # the crop left the frame: black padding (0 - 10) / 2
    crop = face_crop(np.full((100, 100, 3), 7, np.uint8), BOX, 1.0, 16)
    assert crop.shape == (16, 16, 3)


def test_model_file_must_match_its_sha256(tmp_path: Path) -> None:
    cfg = constant_pad(tmp_path / "pad.onnx", 0.9)
    (tmp_path / "pad.onnx").write_bytes((tmp_path / "pad.onnx").read_bytes() + b"\0")
    with pytest.raises(ModelError, match="sha256 mismatch"):
        build_pad(cfg)
    with pytest.raises(ConfigError):
        build_pad(PadConfig(type="onnx"))
    assert build_pad(PadConfig()) is None
