"""Contract test suites shared by every backend.

A backend's test module subclasses :class:`DetectorContract` or :class:`EmbedderContract` as
``Test...`` and provides the fixtures (``detector``; ``embedder``, ``embed_detector`` and
``threshold``) plus the class attributes that state its own tolerances. The base classes are
not named ``Test*`` so pytest collects them only through a backend.
"""

from __future__ import annotations

from typing import ClassVar

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from overt.domain.detections import FaceDetections
from overt.domain.templates import Template, cosine_similarity
from overt.errors import InputError
from overt.vision.detectors.base import Detector
from overt.vision.embedders.base import Embedder, embed_with_norms
from overt.vision.imageio import decode_image, to_bgr_uint8

Image = npt.NDArray[np.uint8]

YAO_IN_PLAYERS_XYXY = (719.0, 143.0, 763.0, 192.0)
"""Where Yao Ming's face is in players.jpg (the other 22 faces are his team mates)."""


def iou(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    ax1, ay1, ax2, ay2 = (float(v) for v in np.asarray(a).ravel())
    bx1, by1, bx2, by2 = (float(v) for v in np.asarray(b).ravel())
    iw, ih = max(0.0, min(ax2, bx2) - max(ax1, bx1)), max(0.0, min(ay2, by2) - max(ay1, by1))
    inter = iw * ih
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    return inter / union if union > 0 else 0.0


def check_well_formed(dets: FaceDetections, image: Image) -> None:
    """Boxes inside the image, scores in [0, 1] and sorted best first."""
    h, w = image.shape[:2]
    assert isinstance(dets, FaceDetections)
    if not len(dets):
        return
    assert np.all(dets.xyxy[:, 0] >= 0)
    assert np.all(dets.xyxy[:, 1] >= 0)
    assert np.all(dets.xyxy[:, 2] <= w)
    assert np.all(dets.xyxy[:, 3] <= h)
    assert np.all((dets.scores >= 0) & (dets.scores <= 1))
    assert np.all(np.diff(dets.scores) <= 0), "detections must be sorted by score, best first"


class DetectorContract:
    """What every ``Detector`` must do. Subclasses give a ``detector`` fixture."""

    GDP_FACES: ClassVar[int] = 5
    """Faces in gdp.jpg this backend finds at its default threshold..."""
    GDP_TOLERANCE: ClassVar[int] = 0
    """...give or take this many."""
    LANDMARK_SLACK: ClassVar[float] = 0.0
    """How far (fraction of the box side) a landmark may stick out of its box."""
    PLACEMENT: ClassVar[bool] = True
    """False for scripted fakes, which only know whole images they were given."""

    def test_is_a_detector(self, detector: Detector) -> None:
        assert isinstance(detector, Detector)
        assert isinstance(detector.model_id, str)
        assert detector.model_id

    def test_finds_the_single_face_of_yaoming(self, detector: Detector, yaoming_bgr: Image) -> None:
        dets = detector.detect(yaoming_bgr)
        assert len(dets) == 1
        check_well_formed(dets, yaoming_bgr)
        h, w = yaoming_bgr.shape[:2]
        x1, y1, x2, y2 = dets.xyxy[0]
        assert x2 - x1 > 40
        assert y2 - y1 > 40
        lms = dets.landmarks5[0]
        assert np.all((lms[:, 0] >= 0) & (lms[:, 0] <= w) & (lms[:, 1] >= 0) & (lms[:, 1] <= h))
        sx, sy = self.LANDMARK_SLACK * (x2 - x1), self.LANDMARK_SLACK * (y2 - y1)
        assert np.all((lms[:, 0] >= x1 - sx) & (lms[:, 0] <= x2 + sx)), "landmarks must lie inside the box"
        assert np.all((lms[:, 1] >= y1 - sy) & (lms[:, 1] <= y2 + sy)), "landmarks must lie inside the box"
        # ArcFace order: image-left eye, right eye, nose, left mouth corner, right mouth corner.
        le, re, nose, lm, rm = lms
        assert le[0] < re[0]
        assert lm[0] < rm[0]
        assert max(le[1], re[1]) < nose[1] < min(lm[1], rm[1])

    def test_finds_the_faces_of_gdp(self, detector: Detector, gdp_bgr: Image) -> None:
        dets = detector.detect(gdp_bgr)
        check_well_formed(dets, gdp_bgr)
        assert abs(len(dets) - self.GDP_FACES) <= self.GDP_TOLERANCE, f"found {len(dets)} faces"

    @pytest.mark.parametrize("kind", ["black", "grey", "white", "noise", "smooth_noise"])
    def test_no_face_in_blank_or_noise_images(self, detector: Detector, kind: str) -> None:
        rng = np.random.default_rng(7)
        shape = (480, 640, 3)
        image: Image
        if kind == "black":
            image = np.zeros(shape, np.uint8)
        elif kind == "grey":
            image = np.full(shape, 127, np.uint8)
        elif kind == "white":
            image = np.full(shape, 255, np.uint8)
        elif kind == "noise":
            image = rng.integers(0, 256, shape, dtype=np.uint8)
        else:
            image = np.asarray(cv2.GaussianBlur(rng.integers(0, 256, shape, dtype=np.uint8), (0, 0), 3), np.uint8)
        assert len(detector.detect(image)) == 0

    @pytest.mark.parametrize("hw", [(1, 1), (1, 7), (2, 3), (17, 5000), (5000, 17), (31, 33), (64, 64)])
    def test_any_size_and_aspect_ratio(self, detector: Detector, hw: tuple[int, int]) -> None:
        image = np.random.default_rng(hw[0] * 7 + hw[1]).integers(0, 256, (*hw, 3), dtype=np.uint8)
        dets = detector.detect(image)
        check_well_formed(dets, image)

    def test_face_in_a_very_wide_image_maps_back(self, detector: Detector, yaoming_bgr: Image) -> None:
        if not self.PLACEMENT:
            pytest.skip("a scripted fake does not find faces in new images")
        h, w = yaoming_bgr.shape[:2]
        canvas = np.full((h, 5 * w, 3), 200, np.uint8)
        canvas[:, 3 * w : 4 * w] = yaoming_bgr
        ref = detector.detect(yaoming_bgr)
        dets = detector.detect(canvas)
        assert len(dets) == 1
        check_well_formed(dets, canvas)
        moved = dets.xyxy[0] - np.array([3 * w, 0, 3 * w, 0], np.float32)
        assert iou(moved, ref.xyxy[0]) > 0.7

    @pytest.mark.parametrize("conversion", ["grey", "bgra", "uint16", "float"])
    def test_converted_images(self, detector: Detector, yaoming_bgr: Image, conversion: str) -> None:
        if conversion == "grey":
            image = to_bgr_uint8(cv2.cvtColor(yaoming_bgr, cv2.COLOR_BGR2GRAY))
        elif conversion == "bgra":
            image = to_bgr_uint8(cv2.cvtColor(yaoming_bgr, cv2.COLOR_BGR2BGRA))
        elif conversion == "uint16":
            image = to_bgr_uint8(yaoming_bgr.astype(np.uint16) * 257)
        else:
            image = to_bgr_uint8(yaoming_bgr.astype(np.float32) / 255.0)
        ref = detector.detect(yaoming_bgr)
        dets = detector.detect(image)
        assert len(dets) == 1
        assert iou(dets.xyxy[0], ref.xyxy[0]) > 0.8

    def test_results_sorted_by_score(self, detector: Detector, gdp_bgr: Image) -> None:
        dets = detector.detect(gdp_bgr, score_threshold=0.2)
        assert len(dets) >= 2
        check_well_formed(dets, gdp_bgr)

    def test_score_threshold_override(self, detector: Detector, gdp_bgr: Image) -> None:
        default = detector.detect(gdp_bgr)
        strict = detector.detect(gdp_bgr, score_threshold=0.95)
        loose = detector.detect(gdp_bgr, score_threshold=0.2)
        assert len(strict) <= len(default) <= len(loose)
        assert np.all(strict.scores >= 0.95)
        assert np.all(loose.scores >= 0.2)
        # The override holds for one call only.
        again = detector.detect(gdp_bgr)
        assert len(again) == len(default)
        np.testing.assert_allclose(again.xyxy, default.xyxy, atol=1e-3)

    @pytest.mark.parametrize("shape", [(0, 10, 3), (10, 0, 3)])
    def test_empty_image_is_an_input_error(self, detector: Detector, shape: tuple[int, int, int]) -> None:
        with pytest.raises(InputError):
            detector.detect(np.zeros(shape, np.uint8))

    def test_rejects_non_bgr_uint8(self, detector: Detector) -> None:
        with pytest.raises(InputError):
            detector.detect(np.zeros((32, 32, 3), np.float32))
        with pytest.raises(InputError):
            detector.detect(np.zeros((32, 32), np.uint8))


def _templates(embedder: Embedder, detector: Detector, image: Image) -> tuple[FaceDetections, list[Template]]:
    dets = detector.detect(image)
    crops = [embedder.align(image, d.xyxy[0], d.landmarks5[0]) for d in dets]
    return dets, embedder.embed(crops)


class EmbedderContract:
    """What every ``Embedder`` must do. Subclasses give ``embedder``, ``embed_detector`` (the
    detector paired with it) and ``threshold`` (its min_similarity) fixtures."""

    def yao_crop(self, embedder: Embedder, embed_detector: Detector, yaoming_bgr: Image) -> Image:
        dets = embed_detector.detect(yaoming_bgr)
        assert len(dets) == 1
        return embedder.align(yaoming_bgr, dets.xyxy[0], dets.landmarks5[0])

    def test_is_an_embedder(self, embedder: Embedder) -> None:
        assert isinstance(embedder, Embedder)
        assert embedder.embedding_size > 0
        assert embedder.crop_size_px > 0

    def test_align_gives_a_crop_of_the_declared_size(
        self, embedder: Embedder, embed_detector: Detector, yaoming_bgr: Image
    ) -> None:
        crop = self.yao_crop(embedder, embed_detector, yaoming_bgr)
        assert crop.dtype == np.uint8
        assert crop.shape == (embedder.crop_size_px, embedder.crop_size_px, 3)

    def test_unit_norm_right_size(self, embedder: Embedder, embed_detector: Detector, yaoming_bgr: Image) -> None:
        (t,) = embedder.embed([self.yao_crop(embedder, embed_detector, yaoming_bgr)])
        assert isinstance(t, Template)
        assert t.model_id == embedder.model_id
        assert t.vector.dtype == np.float32
        assert t.vector.shape == (embedder.embedding_size,)
        assert abs(float(np.linalg.norm(t.vector)) - 1.0) < 1e-5

    def test_same_face_twice(self, embedder: Embedder, embed_detector: Detector, yaoming_bgr: Image) -> None:
        crop = self.yao_crop(embedder, embed_detector, yaoming_bgr)
        (a,) = embedder.embed([crop])
        (b,) = embedder.embed([crop.copy()])
        assert cosine_similarity(a, b) > 0.9999

    def test_flipped_rescaled_copy_is_the_same_person(
        self, embedder: Embedder, embed_detector: Detector, yaoming_bgr: Image, threshold: float
    ) -> None:
        altered = cv2.resize(cv2.flip(yaoming_bgr, 1), None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA)
        ok, jpg = cv2.imencode(".jpg", altered, [cv2.IMWRITE_JPEG_QUALITY, 60])
        assert ok
        altered = decode_image(jpg.tobytes())
        (a,) = embedder.embed([self.yao_crop(embedder, embed_detector, yaoming_bgr)])
        (b,) = embedder.embed([self.yao_crop(embedder, embed_detector, altered)])
        assert cosine_similarity(a, b) > threshold

    def test_other_people_are_below_threshold(
        self,
        embedder: Embedder,
        embed_detector: Detector,
        yaoming_bgr: Image,
        players_bgr: Image,
        threshold: float,
    ) -> None:
        (yao,) = embedder.embed([self.yao_crop(embedder, embed_detector, yaoming_bgr)])
        dets, templates = _templates(embedder, embed_detector, players_bgr)
        assert len(dets) >= 10
        others = [
            cosine_similarity(yao, t) for i, t in enumerate(templates) if iou(dets.xyxy[i], YAO_IN_PLAYERS_XYXY) < 0.3
        ]
        assert len(others) >= len(dets) - 1
        assert max(others) < threshold, f"a team mate scored {max(others):.3f} >= {threshold}"

    def test_batch_equals_one_by_one(self, embedder: Embedder, embed_detector: Detector, gdp_bgr: Image) -> None:
        dets = embed_detector.detect(gdp_bgr)
        crops = [embedder.align(gdp_bgr, d.xyxy[0], d.landmarks5[0]) for d in dets]
        assert len(crops) >= 2
        batch = embedder.embed(crops)
        single = [embedder.embed([c])[0] for c in crops]
        assert len(batch) == len(crops)
        for b, s in zip(batch, single, strict=True):
            np.testing.assert_allclose(b.vector, s.vector, atol=1e-4)

    def test_empty_batch(self, embedder: Embedder) -> None:
        assert embedder.embed([]) == []

    def test_embed_with_norms_agrees_with_embed(
        self, embedder: Embedder, embed_detector: Detector, gdp_bgr: Image
    ) -> None:
        """Every embedder goes through ``embed_with_norms``: same templates, norms positive or NaN."""
        dets = embed_detector.detect(gdp_bgr)
        crops = [embedder.align(gdp_bgr, d.xyxy[0], d.landmarks5[0]) for d in dets]
        templates, norms = embed_with_norms(embedder, crops)
        assert norms.dtype == np.float32
        assert norms.shape == (len(crops),)
        for a, b in zip(templates, embedder.embed(crops), strict=True):
            np.testing.assert_allclose(a.vector, b.vector, atol=1e-4)
        assert np.all(np.isnan(norms)) or np.all(norms > 0)
        empty_templates, empty_norms = embed_with_norms(embedder, [])
        assert empty_templates == []
        assert empty_norms.shape == (0,)

    def test_rejects_wrong_crops(self, embedder: Embedder) -> None:
        size = embedder.crop_size_px
        with pytest.raises(InputError):
            embedder.embed([np.zeros((size + 1, size, 3), np.uint8)])
        with pytest.raises(InputError):
            embedder.embed([np.zeros((size, size, 3), np.float32)])
