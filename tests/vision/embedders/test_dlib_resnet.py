"""dlib ResNet embedder (optional extra ``overt[dlib]``): the shared contract plus specifics."""

from __future__ import annotations

import numpy as np
import pytest

from overt.config import DlibDetectorConfig, DlibEmbedderConfig, EngineConfig, build_engine
from overt.domain.templates import cosine_similarity
from overt.errors import ConfigError
from overt.vision.detectors.dlib_hog import DlibHogDetector
from overt.vision.embedders.dlib_resnet import DlibResnetEmbedder
from overt.vision.models import ModelRegistry
from tests.vision.contract import EmbedderContract

pytestmark = pytest.mark.dlib


@pytest.fixture(scope="module")
def embedder() -> DlibResnetEmbedder:
    pytest.importorskip("dlib", reason="the dlib backend needs: pip install 'overt[dlib]'")
    return DlibResnetEmbedder()


@pytest.fixture(scope="module")
def embed_detector() -> DlibHogDetector:
    pytest.importorskip("dlib", reason="the dlib backend needs: pip install 'overt[dlib]'")
    return DlibHogDetector()


@pytest.fixture(scope="module")
def threshold() -> float:
    t = ModelRegistry().get("dlib_resnet_v1").default_threshold
    assert t is not None
    return t


class TestDlibResnetContract(EmbedderContract):
    @pytest.mark.xfail(
        strict=True,
        reason=(
            "measured weakness of dlib's ResNet on this East Asian team photo: team mates score up to 0.94 "
            "against Yao Ming, above the 0.925 calibrated on dev data (dlib's own euclidean 0.6 rule accepts "
            "9 of the 15 detected team mates too). Use the ArcFace engine where this matters."
        ),
    )
    def test_other_people_are_below_threshold(self, *args: object, **kwargs: object) -> None:
        super().test_other_people_are_below_threshold(*args, **kwargs)  # type: ignore[arg-type]


def test_descriptors_are_not_unit_norm_before_normalising(embedder: DlibResnetEmbedder) -> None:
    """dlib's raw descriptors have norm ~1.4, so its euclidean 0.6 is cosine ~0.91, not ~0.82."""
    from overt.samples import sample_image
    from overt.vision.imageio import read_image

    img = read_image(sample_image("yaoming"))
    dets = DlibHogDetector().detect(img)
    crop = embedder.align(img, dets.xyxy[0], dets.landmarks5[0])
    raw = np.asarray(embedder._net.compute_face_descriptor(np.ascontiguousarray(crop[:, :, ::-1])))
    assert 1.2 < float(np.linalg.norm(raw)) < 1.6


def test_dlib_engine_end_to_end(yaoming_bgr: np.ndarray) -> None:
    pytest.importorskip("dlib")
    engine = build_engine(EngineConfig(detector=DlibDetectorConfig(), embedder=DlibEmbedderConfig()))
    assert engine.min_similarity == pytest.approx(0.925)
    a = engine.one_face(yaoming_bgr)
    b = engine.one_face(np.ascontiguousarray(yaoming_bgr[:, ::-1]))
    assert a.template is not None
    assert b.template is not None
    assert a.template.dim == 128
    assert cosine_similarity(a.template, b.template) > engine.min_similarity


def test_dlib_embedder_behind_scrfd_and_jitters(yaoming_bgr: np.ndarray) -> None:
    pytest.importorskip("dlib")
    engine = build_engine(EngineConfig(embedder=DlibEmbedderConfig(jitters=2)))
    face = engine.one_face(yaoming_bgr, gate=None)
    ref = build_engine(EngineConfig(detector=DlibDetectorConfig(), embedder=DlibEmbedderConfig()))
    other = ref.one_face(yaoming_bgr)
    assert face.template is not None
    assert other.template is not None
    assert cosine_similarity(face.template, other.template) > 0.95


def test_bad_jitters() -> None:
    pytest.importorskip("dlib")
    with pytest.raises(ConfigError):
        DlibResnetEmbedder(jitters=11)
    with pytest.raises(ConfigError):
        DlibResnetEmbedder(model_id="arcface_w600k_mbf")
