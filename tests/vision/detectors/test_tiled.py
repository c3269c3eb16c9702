"""Tiled detection: small faces in a 1080p frame that the whole-frame pass at 640 misses."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from overt.config import EngineConfig, build_engine
from overt.errors import ConfigError
from overt.vision.detectors.scrfd import ScrfdDetector
from overt.vision.detectors.tiled import TiledDetector


def _frame(yao: np.ndarray, face_px: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """1920x1080 grey frame with six copies of Yao's photo shrunk so his face is ``face_px`` wide."""
    scale = face_px / 105.0  # his face box is ~105 px wide in yaoming.jpg
    small = cv2.resize(yao, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    frame = np.full((1080, 1920, 3), 127, np.uint8)
    spots = [(200, 150), (900, 150), (1600, 150), (200, 800), (900, 800), (1600, 800)]
    h, w = small.shape[:2]
    for x, y in spots:
        frame[y : y + h, x : x + w] = small
    return frame, spots


def test_tiles_cover_the_frame_with_overlap() -> None:
    t = TiledDetector(ScrfdDetector(), grid=2).tiles(1080, 1920)
    assert len(t) == 4
    assert min(x1 for x1, _, _, _ in t) == 0
    assert max(x2 for _, _, x2, _ in t) == 1920
    assert max(y2 for _, _, _, y2 in t) == 1080
    assert t[0][2] > t[1][0]  # neighbours overlap


def test_small_faces_found_only_with_tiles(yaoming_bgr: np.ndarray) -> None:
    frame, spots = _frame(yaoming_bgr, 26)
    whole = ScrfdDetector().detect(frame)
    tiled = TiledDetector(ScrfdDetector(), grid=2).detect(frame)
    assert len(tiled) >= len(spots) - 1
    assert len(whole) < len(tiled)
    assert np.all(np.diff(tiled.scores) <= 0)


def test_small_frames_are_detected_whole(yaoming_bgr: np.ndarray) -> None:
    det = TiledDetector(ScrfdDetector(), grid=2)
    a, b = det.detect(yaoming_bgr), ScrfdDetector().detect(yaoming_bgr)
    np.testing.assert_allclose(a.xyxy, b.xyxy)


def test_config_and_bad_grid() -> None:
    engine = build_engine(EngineConfig(detector_tiles=2))
    assert isinstance(engine.detector, TiledDetector)
    with pytest.raises(ConfigError):
        TiledDetector(ScrfdDetector(), grid=1)
