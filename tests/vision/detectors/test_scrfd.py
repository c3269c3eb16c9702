"""SCRFD detector: the shared contract plus SCRFD specifics."""

from __future__ import annotations

import cv2
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


def test_a_1080p_frame_runs_as_640x384_and_finds_what_the_square_finds(gdp_bgr: np.ndarray) -> None:
    """The input is the resized frame rounded up to 32 px (the model's axes are dynamic), not a
    640 x 640 square of mostly padding: ~40 % less detector compute, the same faces."""
    frame = np.full((1080, 1920, 3), 90, np.uint8)
    big = cv2.resize(gdp_bgr, None, fx=1.5, fy=1.5)
    frame[40 : 40 + big.shape[0], 500 : 500 + big.shape[1]] = big
    assert _DETECTOR.canvas_hw(1080, 1920) == (384, 640, 1 / 3)
    blob, _ = _DETECTOR.letterbox(frame)
    assert blob.shape == (1, 3, 384, 640)

    class Square(ScrfdDetector):
        def canvas_hw(self, height: int, width: int) -> tuple[int, int, float]:
            return self.input_size_px, self.input_size_px, super().canvas_hw(height, width)[2]

    # The pipeline's track_low_score (0.3): the far-field faces too.
    rect, square = _DETECTOR.detect(frame, score_threshold=0.3), Square().detect(frame, score_threshold=0.3)
    assert len(rect) == len(square) == 6
    np.testing.assert_allclose(rect.xyxy, square.xyxy, atol=0.5)
    np.testing.assert_allclose(rect.scores, square.scores, atol=0.005)
