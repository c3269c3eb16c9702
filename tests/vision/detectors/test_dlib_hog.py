"""dlib HOG detector (optional extra ``overt[dlib]``): the shared contract plus specifics."""

from __future__ import annotations

import numpy as np
import pytest

from overt.vision.detectors.dlib_hog import DlibHogDetector, five_from_68, margin_to_score, score_to_margin
from tests.vision.contract import DetectorContract

pytestmark = pytest.mark.dlib


@pytest.fixture(scope="module")
def detector() -> DlibHogDetector:
    pytest.importorskip("dlib", reason="the dlib backend needs: pip install 'overt[dlib]'")
    return DlibHogDetector(upsample=1)


class TestDlibHogContract(DetectorContract):
    # HOG (frontal only) finds 3 of the 5 faces of gdp.jpg at upsample=1: two are turned/tiny.
    GDP_FACES = 4
    GDP_TOLERANCE = 1
    # dlib's HOG boxes are tight (brows to lip); the mouth corners may sit on the lower edge.
    LANDMARK_SLACK = 0.1


def test_score_mapping_round_trips() -> None:
    for s in (0.1, 0.3, 0.5, 0.9):
        assert float(margin_to_score(score_to_margin(s))) == pytest.approx(s, abs=1e-6)
    assert float(margin_to_score(0.0)) == 0.5
    assert 0.0 <= float(margin_to_score(-50.0)) < 1e-6
    assert float(margin_to_score(50.0)) <= 1.0


def test_five_from_68_order() -> None:
    pts = np.zeros((68, 2))
    pts[36:42] = [10, 20]
    pts[42:48] = [30, 20]
    pts[30] = [20, 30]
    pts[48] = [12, 40]
    pts[54] = [28, 40]
    np.testing.assert_allclose(five_from_68(pts), [[10, 20], [30, 20], [20, 30], [12, 40], [28, 40]])


def test_upsample_zero_finds_yaoming(yaoming_bgr: np.ndarray) -> None:
    pytest.importorskip("dlib")
    assert len(DlibHogDetector(upsample=0).detect(yaoming_bgr)) == 1
