from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from overt.config import EngineConfig, ScrfdDetectorConfig, build_engine
from overt.domain.quality import QualityGate
from overt.errors import MultipleFacesError, NoFaceError, QualityError
from overt.vision.engine import FaceEngine, choose_face
from tests.fakes import FakeDetector, FakeEmbedder, box_with_landmarks, detections
from tests.vision.contract import iou

Img = npt.NDArray[np.uint8]
YAO_XYXY = (71.8, 73.3, 177.4, 212.0)


@pytest.fixture(scope="module")
def engine() -> FaceEngine:
    return build_engine(EngineConfig())


def test_from_config_defaults(engine: FaceEngine) -> None:
    assert engine.detector.model_id == "scrfd_500m_bnkps"
    assert engine.embedder.model_id == "arcface_w600k_mbf"
    assert engine.min_similarity == pytest.approx(0.30)
    assert build_engine(EngineConfig(min_similarity=0.5)).min_similarity == 0.5


def test_tight_crop_is_found_only_by_the_padded_retry(yaoming_bgr: Img) -> None:
    # SCRFD enlarging a close-up to the full 640 input misses a face that fills the whole image
    # (max_upscale caps that by default); the retry pads and lowers the threshold.
    engine = build_engine(EngineConfig(detector=ScrfdDetectorConfig(max_upscale=100.0)))
    x1, y1, x2, y2 = 62, 63, 187, 222
    crop = np.ascontiguousarray(yaoming_bgr[y1:y2, x1:x2])
    assert len(engine.detect(crop)) == 0
    found = engine.detect(crop, expect_face=True)
    assert len(found) == 1
    h, w = crop.shape[:2]
    assert np.all(found.xyxy[0] >= 0)
    assert found.xyxy[0, 2] <= w
    assert found.xyxy[0, 3] <= h
    shifted = np.array(YAO_XYXY) - np.array([x1, y1, x1, y1])
    assert iou(found.xyxy[0], shifted) > 0.7
    face = engine.one_face(crop)
    assert face.template is not None


def test_retry_path_with_a_fake_detector() -> None:
    # The first call finds nothing; the retry (on the padded image) finds a face at padded coordinates.
    img = np.zeros((100, 200, 3), np.uint8)
    pad_x, pad_y = 60, 30  # retry_pad_ratio 0.3 of 200 x 100
    det = FakeDetector(
        queue=[detections([], [], []), box_with_landmarks(pad_x + 10, pad_y + 20, pad_x + 60, pad_y + 80, 0.35)]
    )
    eng = FaceEngine(det, FakeEmbedder(), retry_score_threshold=0.3, retry_pad_ratio=0.3)
    dets = eng.detect(img, expect_face=True)
    assert det.calls == [((100, 200, 3), 0.5), ((160, 320, 3), 0.3)]
    np.testing.assert_allclose(dets.xyxy[0], [10, 20, 60, 80])
    np.testing.assert_allclose(dets.landmarks5[0, 0], [10 + 0.3 * 50, 20 + 0.4 * 60])


def test_no_retry_unless_a_face_is_expected() -> None:
    det = FakeDetector()
    eng = FaceEngine(det, FakeEmbedder())
    assert len(eng.detect(np.zeros((10, 10, 3), np.uint8))) == 0
    assert len(det.calls) == 1


def test_retry_clips_boxes_to_the_image() -> None:
    img = np.zeros((100, 100, 3), np.uint8)
    det = FakeDetector(queue=[detections([], [], []), box_with_landmarks(0, 0, 200, 200, 0.4)])
    dets = FaceEngine(det, FakeEmbedder()).detect(img, expect_face=True)
    np.testing.assert_allclose(dets.xyxy[0], [0, 0, 100, 100])


def test_no_face_error() -> None:
    eng = FaceEngine(FakeDetector(), FakeEmbedder())
    with pytest.raises(NoFaceError, match=r"probe\.jpg: no face found"):
        eng.one_face(np.zeros((50, 50, 3), np.uint8), what="probe.jpg")


def _three_faces() -> FakeDetector:
    # Image 300x200: a big face top-left, a small one in the centre, a medium one at the right.
    d = detections(
        [[0, 0, 100, 100], [140, 90, 160, 110], [230, 60, 290, 120]],
        [0.9, 0.8, 0.7],
        [
            box_with_landmarks(*b).landmarks5[0].tolist()
            for b in ([0, 0, 100, 100], [140, 90, 160, 110], [230, 60, 290, 120])
        ],
    )
    return FakeDetector(queue=[d])


def test_one_face_pick_modes() -> None:
    img = np.random.default_rng(0).integers(0, 256, (200, 300, 3), dtype=np.uint8)
    eng = FaceEngine(_three_faces(), FakeEmbedder())
    with pytest.raises(MultipleFacesError, match="3 faces found"):
        eng.one_face(img, pick="one")
    largest = eng.one_face(img, pick="largest")
    np.testing.assert_allclose(largest.xyxy, [0, 0, 100, 100])
    centre = eng.one_face(img, pick="centre")
    np.testing.assert_allclose(centre.xyxy, [140, 90, 160, 110])
    assert centre.template is not None
    assert centre.template.model_id == "fake_embedder"


def test_choose_face_centre_weighs_size() -> None:
    # Two faces equally far from the centre: the bigger one wins.
    d = detections(
        [[40, 40, 60, 60], [130, 30, 170, 70]],
        [0.9, 0.9],
        [
            box_with_landmarks(40, 40, 60, 60).landmarks5[0].tolist(),
            box_with_landmarks(130, 30, 170, 70).landmarks5[0].tolist(),
        ],
    )
    assert choose_face(d, 200, 100, "centre") == 1
    assert choose_face(d, 200, 100, "largest") == 1


def test_quality_error(engine: FaceEngine, yaoming_bgr: Img) -> None:
    with pytest.raises(QualityError, match="too small"):
        engine.one_face(yaoming_bgr, gate=QualityGate(min_size_px=1000))
    face = engine.one_face(yaoming_bgr, gate=QualityGate.for_enrolment())
    assert face.quality.size_px > 100


def test_faces_batch_and_crops(engine: FaceEngine, gdp_bgr: Img) -> None:
    faces = engine.faces(gdp_bgr, keep_crops=True)
    assert len(faces) == 5
    assert all(f.template is not None and f.crop is not None and f.crop.shape == (112, 112, 3) for f in faces)
    bare = engine.faces(gdp_bgr, embed=False)
    assert all(f.template is None and f.crop is None for f in bare)
    assert engine.faces(np.zeros((64, 64, 3), np.uint8)) == []
