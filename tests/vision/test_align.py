from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from overt.errors import InputError
from overt.vision.align import ARCFACE_TEMPLATE_112, align_face, arcface_matrix, umeyama_similarity
from overt.vision.detectors.scrfd import ScrfdDetector


@pytest.mark.parametrize(("angle_deg", "scale", "tx", "ty"), [(0, 1, 0, 0), (30, 2.5, -7, 12), (-170, 0.3, 100, 5)])
def test_umeyama_recovers_a_known_similarity(angle_deg: float, scale: float, tx: float, ty: float) -> None:
    a = math.radians(angle_deg)
    m_true = np.array([[scale * math.cos(a), -scale * math.sin(a), tx], [scale * math.sin(a), scale * math.cos(a), ty]])
    src = np.random.default_rng(1).uniform(-50, 50, (7, 2))
    dst = src @ m_true[:, :2].T + m_true[:, 2]
    np.testing.assert_allclose(umeyama_similarity(src, dst), m_true, atol=1e-9)


def test_umeyama_least_squares_with_noise() -> None:
    src = ARCFACE_TEMPLATE_112 * 2 + 10
    noisy = src + np.random.default_rng(2).normal(0, 0.5, src.shape)
    m = umeyama_similarity(noisy, ARCFACE_TEMPLATE_112)
    mapped = noisy @ m[:, :2].T + m[:, 2]
    assert float(np.abs(mapped - ARCFACE_TEMPLATE_112).max()) < 1.0


def test_reflection_is_not_used() -> None:
    src = ARCFACE_TEMPLATE_112.copy()
    mirrored = src.copy()
    mirrored[:, 0] = 112 - mirrored[:, 0]
    m = umeyama_similarity(src, mirrored)
    assert np.linalg.det(m[:, :2]) > 0  # a rotation, never a mirror


def test_degenerate_and_bad_shapes() -> None:
    with pytest.raises(InputError):
        umeyama_similarity(np.ones((5, 2)), ARCFACE_TEMPLATE_112)
    with pytest.raises(InputError):
        arcface_matrix(np.zeros((4, 2)))


def test_template_maps_to_itself_at_any_size() -> None:
    m = arcface_matrix(ARCFACE_TEMPLATE_112 * 2, 224)
    np.testing.assert_allclose(m, [[1, 0, 0], [0, 1, 0]], atol=1e-9)


def test_aligned_yaoming_has_eyes_on_the_template(yaoming_bgr: npt.NDArray[np.uint8]) -> None:
    det = ScrfdDetector()
    dets = det.detect(yaoming_bgr)
    crop = align_face(yaoming_bgr, dets.landmarks5[0], 112)
    assert crop.shape == (112, 112, 3)
    assert crop.dtype == np.uint8
    # Re-detect on the crop placed in a grey canvas (the detector wants context around a face).
    canvas = np.full((336, 336, 3), 127, np.uint8)
    canvas[112:224, 112:224] = crop
    again = det.detect(canvas, score_threshold=0.3)
    assert len(again) >= 1
    lms = again.landmarks5[0] - 112
    err = np.linalg.norm(lms[:2] - ARCFACE_TEMPLATE_112[:2], axis=1)
    assert float(err.max()) < 1.5, f"eyes {err} px from the template"
