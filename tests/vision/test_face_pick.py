"""Choosing the subject's face in a photo with bystanders: ``pick="dominant"`` and a marked face."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from overt.config import build_engine
from overt.errors import InputError, MultipleFacesError
from overt.vision.engine import FaceEngine

Image = npt.NDArray[np.uint8]


@pytest.fixture(scope="module")
def engine() -> FaceEngine:
    return build_engine()


def _scene(yao: Image, *, small_scale: float, big_at: tuple[int, int] = (80, 60)) -> Image:
    """Yao's photo at full size with a shrunk copy (a bystander) beside it on a grey canvas."""
    canvas = np.full((420, 640, 3), 127, np.uint8)
    h, w = yao.shape[:2]
    x, y = big_at
    canvas[y : y + h, x : x + w] = yao
    small = cv2.resize(yao, None, fx=small_scale, fy=small_scale, interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    canvas[60 : 60 + sh, 400 : 400 + sw] = small
    return canvas


def test_dominant_takes_the_big_face_and_says_which(engine: FaceEngine, yaoming_bgr: Image) -> None:
    img = _scene(yaoming_bgr, small_scale=0.5)
    with pytest.raises(MultipleFacesError):
        engine.one_face(img)  # "exactly one face" stays the default
    chosen = engine.choose(img, pick="dominant")
    assert chosen.faces_found == 2
    assert chosen.rule == "dominant"
    dets = engine.detect(img)  # the index is the one `overt faces` shows
    assert np.allclose(dets.xyxy[chosen.index], chosen.face.xyxy)
    assert chosen.face.xyxy[0] < 400  # the big face, not the bystander


def test_no_dominant_face_is_an_error(engine: FaceEngine, yaoming_bgr: Image) -> None:
    with pytest.raises(MultipleFacesError, match="none dominates"):
        engine.choose(_scene(yaoming_bgr, small_scale=0.8), pick="dominant")


def test_a_face_at_the_edge_is_not_taken(engine: FaceEngine, yaoming_bgr: Image) -> None:
    img = _scene(yaoming_bgr, small_scale=0.5)
    cut = np.ascontiguousarray(img[:, 165:])  # the big face (x 152-257) now runs off the left border
    dets = engine.detect(cut)
    assert len(dets) == 2
    with pytest.raises(MultipleFacesError, match="edge"):
        engine.choose(cut, pick="dominant")


def test_marked_face_by_index_or_box(engine: FaceEngine, yaoming_bgr: Image) -> None:
    img = _scene(yaoming_bgr, small_scale=0.8)
    dets = engine.detect(img)
    small = int(np.argmax(dets.xyxy[:, 0]))  # the bystander, on the right
    by_index = engine.choose(img, mark=small)
    assert by_index.rule == "marked"
    assert by_index.index == small
    box = tuple(float(v) for v in dets.xyxy[small])
    by_box = engine.choose(img, mark=(box[0], box[1], box[2], box[3]))
    assert by_box.index == small
    with pytest.raises(InputError, match="marked"):
        engine.choose(img, mark=5)
    with pytest.raises(InputError, match="no detected face"):
        engine.choose(img, mark=(0.0, 0.0, 30.0, 30.0))
