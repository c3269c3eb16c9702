"""Speed work must not change what the engine sees: outputs pinned, and checked against a reference.

The pinned values were produced by the straightforward implementation (commit 26733aa) before
any performance work. Tolerances: boxes and landmarks 0.5 px, scores 0.005, templates cosine
0.999 against a plain per-face reference (insightface-style: scikit-image similarity transform,
numpy normalisation, default ONNX Runtime session, one face per inference). No timing here:
speed lives in bench/ and BENCHMARKS.md.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from overt.vision.align import ARCFACE_TEMPLATE_112, align_face
from overt.vision.detectors.scrfd import ScrfdDetector
from overt.vision.embedders.arcface import ArcFaceEmbedder
from overt.vision.models import ModelRegistry

# (xyxy, score, landmarks5) in the order the detector returns them (best score first).
PINNED: dict[str, list[tuple[list[float], float, list[list[float]]]]] = {
    "yaoming": [
        (
            [71.76, 73.29, 177.43, 212.03],
            0.8412,
            [[103.81, 122.7], [150.18, 125.57], [126.42, 149.86], [106.66, 176.37], [141.53, 178.79]],
        ),
    ],
    "gdp": [
        (
            [348.37, 115.54, 412.61, 206.06],
            0.872,
            [[366.64, 152.71], [395.96, 154.25], [380.77, 169.87], [367.81, 183.1], [392.28, 184.32]],
        ),
        (
            [129.42, 38.44, 193.61, 117.58],
            0.8697,
            [[149.61, 64.98], [177.72, 72.4], [160.48, 84.28], [146.0, 95.29], [167.44, 101.51]],
        ),
        (
            [266.55, 56.9, 329.03, 154.26],
            0.8352,
            [[302.45, 94.28], [322.49, 95.13], [323.58, 111.13], [304.56, 130.27], [319.41, 131.27]],
        ),
        (
            [1.55, 279.06, 29.36, 316.51],
            0.668,
            [[10.51, 294.13], [22.62, 294.13], [17.21, 301.05], [11.85, 307.2], [21.2, 307.26]],
        ),
        (
            [0.0, 232.05, 23.55, 272.07],
            0.648,
            [[1.57, 247.66], [13.63, 247.98], [6.17, 256.92], [2.85, 263.52], [11.5, 263.67]],
        ),
    ],
}

# Cosine similarity between the six faces above (yaoming, then gdp's five), rounded to 1e-4.
PINNED_SIMILARITY = [
    [1.0, -0.033, 0.0183, 0.0762, -0.1287, -0.0091],
    [-0.033, 1.0, 0.1349, 0.0758, -0.0817, 0.0709],
    [0.0183, 0.1349, 1.0, 0.1378, 0.044, -0.021],
    [0.0762, 0.0758, 0.1378, 1.0, 0.0741, 0.1552],
    [-0.1287, -0.0817, 0.044, 0.0741, 1.0, 0.3296],
    [-0.0091, 0.0709, -0.021, 0.1552, 0.3296, 1.0],
]

PX_TOL = 0.5
SCORE_TOL = 0.005
COSINE_MIN = 0.999
SIMILARITY_TOL = 0.002


@pytest.fixture(scope="module")
def detector() -> ScrfdDetector:
    return ScrfdDetector()


@pytest.fixture(scope="module")
def embedder() -> ArcFaceEmbedder:
    return ArcFaceEmbedder()


@pytest.fixture(scope="module")
def images(yaoming_bgr: npt.NDArray[np.uint8], gdp_bgr: npt.NDArray[np.uint8]) -> dict[str, npt.NDArray[np.uint8]]:
    return {"yaoming": yaoming_bgr, "gdp": gdp_bgr}


@pytest.mark.parametrize("name", ["yaoming", "gdp"])
def test_detections_match_pinned(name: str, detector: ScrfdDetector, images: dict[str, npt.NDArray[np.uint8]]) -> None:
    dets = detector.detect(images[name])
    pinned = PINNED[name]
    assert len(dets) == len(pinned)
    for i, (xyxy, score, lms) in enumerate(pinned):
        np.testing.assert_allclose(dets.xyxy[i], xyxy, atol=PX_TOL)
        assert abs(float(dets.scores[i]) - score) <= SCORE_TOL
        np.testing.assert_allclose(dets.landmarks5[i], lms, atol=PX_TOL)


def _reference_templates(image: npt.NDArray[np.uint8], landmarks: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """insightface-style: skimage similarity, cv2.warpAffine, numpy normalisation, one face per run."""
    import onnxruntime as ort
    from skimage.transform import SimilarityTransform

    path = ModelRegistry().verified_path("arcface_w600k_mbf")
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    out = []
    for lms in landmarks:
        tform = SimilarityTransform.from_estimate(lms.astype(np.float64), ARCFACE_TEMPLATE_112)
        crop = cv2.warpAffine(image, tform.params[:2], (112, 112), borderValue=0.0)
        blob = ((crop[:, :, ::-1].astype(np.float32) - 127.5) / 127.5).transpose(2, 0, 1)[None]
        v = np.asarray(sess.run(None, {name: np.ascontiguousarray(blob)})[0], np.float32)[0]
        out.append(v / np.linalg.norm(v))
    return np.stack(out)


def test_templates_match_reference_and_pinned_similarities(
    detector: ScrfdDetector, embedder: ArcFaceEmbedder, images: dict[str, npt.NDArray[np.uint8]]
) -> None:
    engine_vecs, ref_vecs = [], []
    for name in ("yaoming", "gdp"):
        img = images[name]
        dets = detector.detect(img)
        crops = [embedder.align(img, dets.xyxy[i], dets.landmarks5[i]) for i in range(len(dets))]
        engine_vecs.append(np.stack([t.vector for t in embedder.embed(crops)]))
        ref_vecs.append(_reference_templates(img, dets.landmarks5))
    got = np.concatenate(engine_vecs)
    ref = np.concatenate(ref_vecs)
    cosines = np.sum(got * ref, axis=1)
    assert np.all(cosines >= COSINE_MIN), cosines
    np.testing.assert_allclose(got @ got.T, PINNED_SIMILARITY, atol=SIMILARITY_TOL)


def test_batched_equals_one_by_one(embedder: ArcFaceEmbedder, images: dict[str, npt.NDArray[np.uint8]]) -> None:
    img = images["gdp"]
    lms = np.array([p[2] for p in PINNED["gdp"]], np.float32)
    crops = [align_face(img, lm) for lm in lms]
    batched = np.stack([t.vector for t in embedder.embed(crops)])
    single = np.stack([embedder.embed([c])[0].vector for c in crops])
    assert np.all(np.sum(batched * single, axis=1) >= COSINE_MIN)


def test_prelu_rewrite_is_exact_on_random_input() -> None:
    """The in-memory PRelu rewrite (overt.vision.onnx_rewrite) computes the same function."""
    import onnxruntime as ort

    from overt.vision.onnx_rewrite import rewrite_prelu

    path = ModelRegistry().verified_path("arcface_w600k_mbf")
    rewritten = rewrite_prelu(path)
    assert rewritten is not None
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    plain = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    fast = ort.InferenceSession(rewritten, sess_options=opts, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(7).uniform(-1.0, 1.0, (4, 3, 112, 112)).astype(np.float32)
    a = np.asarray(plain.run(None, {"input.1": x})[0])
    b = np.asarray(fast.run(None, {"input.1": x})[0])
    np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)


def test_prelu_rewrite_leaves_detector_alone() -> None:
    from overt.vision.onnx_rewrite import rewrite_prelu

    assert rewrite_prelu(ModelRegistry().verified_path("scrfd_500m_bnkps")) is None


def test_session_falls_back_to_the_file_when_the_rewrite_is_unusable(monkeypatch: pytest.MonkeyPatch) -> None:
    import overt.vision.onnx_rewrite as rewrite
    from overt.vision import models

    monkeypatch.setattr(rewrite, "rewrite_prelu", lambda path: b"not an onnx model")
    monkeypatch.setattr(models, "_sessions", {})
    sess = ModelRegistry().onnx_session("arcface_w600k_mbf", threads=1)
    x = np.zeros((1, 3, 112, 112), np.float32)
    assert np.asarray(sess.run(None, {sess.get_inputs()[0].name: x})[0]).shape == (1, 512)
