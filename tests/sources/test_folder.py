"""ImageFolderSource: images in natural name order; unreadable ones skipped and counted."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from overt.errors import VideoError
from overt.sources import FrameSource, ImageFolderSource
from tests.sources.conftest import frame_number, moving_face_frames


def test_images_in_natural_order_unreadable_skipped(tmp_path: Path, yaoming_bgr: npt.NDArray[np.uint8]) -> None:
    frames = moving_face_frames(yaoming_bgr, n=12)
    for i, f in enumerate(frames):
        cv2.imwrite(str(tmp_path / f"frame{i}.{'png' if i % 2 else 'jpg'}"), f)
    (tmp_path / "frame5.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")  # corrupt frame 5
    (tmp_path / "frame7.png").write_bytes(b"")  # empty frame 7
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / ".hidden.jpg").write_bytes(b"ignored")
    (tmp_path / "sub").mkdir()
    src = ImageFolderSource(tmp_path, camera_id="cam-2", fps=10.0)
    assert isinstance(src, FrameSource)
    with src:
        got = []
        while (f := src.read(1.0)) is not None:
            got.append(f)
        stats = src.stats()
    assert [frame_number(f.image) for f in got] == [0, 1, 2, 3, 4, 6, 8, 9, 10, 11]
    assert [f.index for f in got] == list(range(10))
    assert [f.pts_s for f in got] == pytest.approx([i / 10 for i in range(10)])
    assert stats.frames_read == 10
    assert stats.frames_skipped == 2
    assert stats.exhausted
    assert stats.last_error is not None
    assert "frame7.png" in stats.last_error


def test_realtime_folder_paces(tmp_path: Path, yaoming_bgr: npt.NDArray[np.uint8]) -> None:
    for i in range(4):
        cv2.imwrite(str(tmp_path / f"{i}.png"), yaoming_bgr)
    with ImageFolderSource(tmp_path, fps=20.0, realtime=True) as src:
        t0 = time.monotonic()
        assert all(src.read(1.0) is not None for _ in range(4))
        assert time.monotonic() - t0 >= 3 / 20 - 0.01


def test_empty_or_missing_folder(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("no images")
    with pytest.raises(VideoError, match="holds no images"):
        ImageFolderSource(tmp_path).start()
    with pytest.raises(VideoError, match="not found"):
        ImageFolderSource(tmp_path / "missing").start()


def test_folder_of_only_broken_images_ends_cleanly(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"{i}.jpg").write_bytes(b"not a jpeg")
    with ImageFolderSource(tmp_path) as src:
        assert src.read(1.0) is None
        stats = src.stats()
    assert stats.exhausted
    assert stats.frames_skipped == 3
    assert stats.frames_read == 0
