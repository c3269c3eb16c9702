from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from overt.config import build_engine
from overt.pipeline.synthetic import face_patches
from overt.vision.engine import FaceEngine


@pytest.fixture(scope="session")
def engine() -> FaceEngine:
    return build_engine()


@pytest.fixture(scope="session")
def yao_patch(engine: FaceEngine, yaoming_bgr: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    return face_patches(yaoming_bgr, engine.detect(yaoming_bgr))[0]


@pytest.fixture(scope="session")
def players_patches(engine: FaceEngine, players_bgr: npt.NDArray[np.uint8]) -> list[npt.NDArray[np.uint8]]:
    return face_patches(players_bgr, engine.detect(players_bgr))


@pytest.fixture(scope="session")
def gdp_patches(engine: FaceEngine, gdp_bgr: npt.NDArray[np.uint8]) -> list[npt.NDArray[np.uint8]]:
    return face_patches(gdp_bgr, engine.detect(gdp_bgr))


def write_watchlist(root: Path, subject: str, image: npt.NDArray[np.uint8]) -> Path:
    folder = root / subject
    folder.mkdir(parents=True)
    cv2.imwrite(str(folder / "1.png"), image)
    return root


def altered(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Another 'photo' of the same face: mirrored, shrunk, re-compressed."""
    small = cv2.resize(cv2.flip(image, 1), None, fx=0.8, fy=0.8, interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 70])
    assert ok
    return np.asarray(cv2.imdecode(buf, cv2.IMREAD_COLOR), np.uint8)
