"""ArcFace embedder: the shared contract plus ArcFace specifics."""

from __future__ import annotations

import numpy as np
import pytest

from overt.domain.templates import cosine_similarity
from overt.errors import ConfigError
from overt.vision.detectors.scrfd import ScrfdDetector
from overt.vision.embedders.arcface import ArcFaceEmbedder
from overt.vision.embedders.base import ReportsFeatureNorms
from overt.vision.models import ModelRegistry
from tests.vision.contract import EmbedderContract


@pytest.fixture(scope="module")
def embedder() -> ArcFaceEmbedder:
    return ArcFaceEmbedder(max_batch=3)  # small batches: exercises the split


@pytest.fixture(scope="module")
def embed_detector() -> ScrfdDetector:
    return ScrfdDetector()


@pytest.fixture(scope="module")
def threshold() -> float:
    t = ModelRegistry().get("arcface_w600k_mbf").default_threshold
    assert t is not None
    return t


class TestArcFaceContract(EmbedderContract):
    pass


def test_finds_yao_in_the_team_photo(
    embedder: ArcFaceEmbedder,
    embed_detector: ScrfdDetector,
    yaoming_bgr: np.ndarray,
    players_bgr: np.ndarray,
) -> None:
    d = embed_detector.detect(yaoming_bgr)
    (yao,) = embedder.embed([embedder.align(yaoming_bgr, d.xyxy[0], d.landmarks5[0])])
    dets = embed_detector.detect(players_bgr)
    assert len(dets) == 23
    ts = embedder.embed([embedder.align(players_bgr, x.xyxy[0], x.landmarks5[0]) for x in dets])
    sims = [cosine_similarity(yao, t) for t in ts]
    best = int(np.argmax(sims))
    np.testing.assert_allclose(dets.xyxy[best], [719.4, 142.8, 763.3, 191.8], atol=3)
    assert sims[best] == pytest.approx(0.629, abs=0.03)


def test_not_an_embedder_model() -> None:
    with pytest.raises(ConfigError):
        ArcFaceEmbedder(model_id="scrfd_500m_bnkps")
    with pytest.raises(ConfigError):
        ArcFaceEmbedder(max_batch=0)


def test_raw_norm_of_real_faces(
    embedder: ArcFaceEmbedder, embed_detector: ScrfdDetector, yaoming_bgr: np.ndarray, gdp_bgr: np.ndarray
) -> None:
    """The pre-normalisation norm: real faces that pass the probe gate measured 19.6-29.4 on dev
    data (BENCHMARKS.md, recognisability); the min_recognisability default is 20."""
    assert isinstance(embedder, ReportsFeatureNorms)
    d = embed_detector.detect(yaoming_bgr)
    templates, norms = embedder.embed_with_norms([embedder.align(yaoming_bgr, d.xyxy[0], d.landmarks5[0])])
    assert norms.shape == (1,)
    assert float(norms[0]) == pytest.approx(24.4, abs=0.5)
    assert abs(float(np.linalg.norm(templates[0].vector)) - 1.0) < 1e-5
    # gdp.jpg: three 62-64 px faces, then two 24-28 px blurred ones (below the probe quality
    # gate): recognisability falls with size and blur.
    dets = embed_detector.detect(gdp_bgr)
    sizes = np.minimum(dets.xyxy[:, 2] - dets.xyxy[:, 0], dets.xyxy[:, 3] - dets.xyxy[:, 1])
    _, gdp_norms = embedder.embed_with_norms([embedder.align(gdp_bgr, x.xyxy[0], x.landmarks5[0]) for x in dets])
    assert np.all(gdp_norms[sizes >= 40] > 22)
    assert np.all(gdp_norms[sizes < 30] < 20)
