"""The fakes obey the same contracts as the real backends, so tests built on them are realistic."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from overt.vision.detectors.scrfd import ScrfdDetector
from tests.fakes import FakeDetector, FakeEmbedder, box_with_landmarks, detections, fingerprint
from tests.vision.contract import DetectorContract, EmbedderContract

Image = npt.NDArray[np.uint8]


@pytest.fixture(scope="module")
def detector(yaoming_bgr: Image, gdp_bgr: Image) -> FakeDetector:
    """A fake scripted with what SCRFD finds in the two sample photos."""
    real = ScrfdDetector()
    return FakeDetector(
        known=[(yaoming_bgr, real.detect(yaoming_bgr)), (gdp_bgr, real.detect(gdp_bgr, score_threshold=0.2))]
    )


class TestFakeDetectorContract(DetectorContract):
    PLACEMENT = False  # the fake only knows the images in its script


@pytest.fixture(scope="module")
def embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="module")
def embed_detector() -> ScrfdDetector:
    return ScrfdDetector()


@pytest.fixture(scope="module")
def threshold() -> float:
    return FakeEmbedder.MIN_SIMILARITY


class TestFakeEmbedderContract(EmbedderContract):
    pass


def test_queue_is_returned_in_order_and_last_repeats() -> None:
    a, b = box_with_landmarks(0, 0, 50, 60), box_with_landmarks(10, 10, 40, 40, score=0.7)
    det = FakeDetector(queue=[a, b])
    img = np.zeros((100, 100, 3), np.uint8)
    assert det.detect(img).xyxy[0, 0] == 0
    assert det.detect(img).xyxy[0, 0] == 10
    assert det.detect(img).xyxy[0, 0] == 10
    assert len(det.detect(img, score_threshold=0.8)) == 0
    assert [c[1] for c in det.calls] == [0.5, 0.5, 0.5, 0.8]


def test_detections_helper_and_empty() -> None:
    assert len(detections([], [], [])) == 0
    d = detections([[0, 0, 10, 10]], [0.9], [[[1, 1], [2, 1], [1.5, 2], [1, 3], [2, 3]]])
    assert len(d) == 1


def test_fingerprint_survives_grey_round_trip(yaoming_bgr: Image) -> None:
    import cv2

    from overt.vision.imageio import to_bgr_uint8

    grey = to_bgr_uint8(cv2.cvtColor(yaoming_bgr, cv2.COLOR_BGR2GRAY))
    assert float(np.abs(fingerprint(grey) - fingerprint(yaoming_bgr)).mean()) < 1.0


def test_fake_embedder_is_deterministic_and_flip_invariant() -> None:
    rng = np.random.default_rng(0)
    crop = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    e = FakeEmbedder()
    a, b = e.embed([crop, crop[:, ::-1].copy()])
    np.testing.assert_allclose(a.vector, b.vector, atol=1e-5)
    flat = e.embed([np.full((64, 64, 3), 9, np.uint8)])[0]
    assert flat.dim == 256
