"""SCRFD detector: the shared contract plus SCRFD specifics."""

from __future__ import annotations

import numpy as np
import pytest

from overt.errors import ConfigError
from overt.vision.detectors.scrfd import ScrfdDetector, nms
from overt.vision.models import ModelRegistry
from tests.vision.contract import DetectorContract

_DETECTOR = ScrfdDetector()


@pytest.fixture(scope="module")
def detector() -> ScrfdDetector:
    return _DETECTOR


class TestScrfdContract(DetectorContract):
    GDP_FACES = 5
    GDP_TOLERANCE = 0


def test_yaoming_pinned(yaoming_bgr: np.ndarray) -> None:
    dets = _DETECTOR.detect(yaoming_bgr)
    np.testing.assert_allclose(dets.xyxy[0], [71.8, 73.3, 177.4, 212.0], atol=2.0)
    np.testing.assert_allclose(dets.scores, [0.876], atol=0.02)
    np.testing.assert_allclose(dets.landmarks5[0, 0], [103.8, 122.7], atol=2.0)


@pytest.mark.parametrize(
    "kwargs",
    [{"input_size_px": 100}, {"input_size_px": 32}, {"score_threshold": 0.0}, {"score_threshold": 1.0}],
)
def test_bad_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        ScrfdDetector(**kwargs)  # type: ignore[arg-type]


def test_not_a_detector_model() -> None:
    with pytest.raises(ConfigError):
        ScrfdDetector(ModelRegistry(), model_id="arcface_w600k_mbf")


def test_nms_keeps_best_of_overlapping() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.6, 0.9, 0.7], np.float32)
    assert nms(boxes, scores, 0.4) == [1, 2]


def test_input_size_changes_nothing_big(yaoming_bgr: np.ndarray) -> None:
    small = ScrfdDetector(input_size_px=320).detect(yaoming_bgr)
    assert len(small) == 1


def test_close_up_found_without_retry(yaoming_bgr: np.ndarray) -> None:
    """A tight crop whose face fills the image: enlarging it to the full 640 input misses it."""
    crop = np.ascontiguousarray(yaoming_bgr[60:219, 62:187])
    dets = _DETECTOR.detect(crop)
    assert len(dets) == 1
    assert dets.scores[0] > 0.5


def test_detect_batch_equals_one_by_one(yaoming_bgr: np.ndarray, gdp_bgr: np.ndarray, players_bgr: np.ndarray) -> None:
    """One session run over images of different sizes finds what one run per image finds
    (the pipeline detects every camera of a round in one batch)."""
    images = [yaoming_bgr, gdp_bgr, players_bgr]
    batch = _DETECTOR.detect_batch(images)
    assert len(batch) == 3
    for image, got in zip(images, batch, strict=True):
        one = _DETECTOR.detect(image)
        assert len(got) == len(one) > 0
        np.testing.assert_allclose(got.xyxy, one.xyxy, atol=1e-3)
        np.testing.assert_allclose(got.scores, one.scores, atol=1e-4)
        np.testing.assert_allclose(got.landmarks5, one.landmarks5, atol=1e-3)
    assert _DETECTOR.detect_batch([]) == []
