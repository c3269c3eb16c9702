from __future__ import annotations

import math

import numpy as np
import pytest

from overt.domain.detections import FaceDetections
from overt.errors import InputError


def make(n: int) -> FaceDetections:
    xyxy = np.array([[10 * i, 0, 10 * i + 8 + i, 20] for i in range(n)], np.float32).reshape(n, 4)
    scores = np.linspace(0.9, 0.6, n).astype(np.float32)
    lms = np.tile(np.array([[2, 5], [6, 5], [4, 9], [3, 14], [5, 14]], np.float32), (n, 1, 1))
    lms[:, :, 0] += (10 * np.arange(n))[:, None]
    return FaceDetections(xyxy=xyxy, scores=scores, landmarks5=lms)


def test_empty() -> None:
    e = FaceDetections.empty()
    assert len(e) == 0
    assert list(e) == []
    assert e.box_sizes_px().shape == (0,)
    assert repr(e) == "FaceDetections(n=0)"
    with pytest.raises(IndexError):
        e[0]


def test_indexing_keeps_type() -> None:
    d = make(3)
    one = d[1]
    assert isinstance(one, FaceDetections)
    assert len(one) == 1
    assert one.xyxy[0, 0] == 10
    assert d[-1].xyxy[0, 0] == 20
    assert len(d[-1]) == 1
    assert len(d[1:]) == 2
    assert len(d[np.array([True, False, True])]) == 2
    assert len(d[np.array([2, 0], np.intp)]) == 2
    with pytest.raises(IndexError):
        d[3]
    with pytest.raises(IndexError):
        d[-4]
    assert [len(x) for x in d] == [1, 1, 1]


def test_arrays_are_read_only_copies() -> None:
    xyxy = np.array([[0, 0, 10, 10]], np.float32)
    d = FaceDetections(xyxy=xyxy, scores=np.array([0.5], np.float32), landmarks5=np.zeros((1, 5, 2), np.float32))
    xyxy[0, 0] = 5
    assert d.xyxy[0, 0] == 0
    with pytest.raises(ValueError, match="read-only"):
        d.xyxy[0, 0] = 1


def test_box_sizes() -> None:
    np.testing.assert_allclose(make(2).box_sizes_px(), [8, 9])


@pytest.mark.parametrize(
    ("xyxy", "scores", "lms", "match"),
    [
        (np.zeros((1, 3)), np.zeros(1), np.zeros((1, 5, 2)), "xyxy"),
        (np.zeros((1, 4)), np.zeros(2), np.zeros((1, 5, 2)), "scores"),
        (np.zeros((1, 4)), np.zeros(1), np.zeros((1, 4, 2)), "landmarks5"),
        (np.zeros((2, 4)), np.zeros(2), np.zeros((1, 5, 2)), "landmarks5"),
        (np.array([[5, 0, 4, 1]]), np.zeros(1), np.zeros((1, 5, 2)), "x2 >= x1"),
        (np.array([[0, 5, 4, 1]]), np.zeros(1), np.zeros((1, 5, 2)), "y2 >= y1"),
        (np.zeros((1, 4)), np.array([1.5]), np.zeros((1, 5, 2)), r"\[0, 1\]"),
        (np.zeros((1, 4)), np.array([-0.1]), np.zeros((1, 5, 2)), r"\[0, 1\]"),
        (np.array([[0, 0, math.nan, 1]]), np.zeros(1), np.zeros((1, 5, 2)), "finite"),
        (np.zeros((1, 4)), np.array([math.nan]), np.zeros((1, 5, 2)), "finite"),
        (np.zeros((1, 4)), np.zeros(1), np.full((1, 5, 2), math.inf), "finite"),
    ],
)
def test_validation(xyxy: object, scores: object, lms: object, match: str) -> None:
    with pytest.raises(InputError, match=match):
        FaceDetections(xyxy=xyxy, scores=scores, landmarks5=lms)  # type: ignore[arg-type]
