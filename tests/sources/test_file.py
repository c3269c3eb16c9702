"""FileSource: every frame, in order, with container pts; clear errors for what cannot be read."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from overt.domain.frames import Frame
from overt.errors import VideoError
from overt.sources import FileSource, FrameSource
from tests.sources.conftest import FPS, N_FRAMES, SIZE_PX, frame_number, truncate_half


def read_all(src: FrameSource, timeout_s: float = 5.0) -> list[Frame]:
    frames = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        f = src.read(timeout_s)
        if f is None:
            if src.stats().exhausted:
                break
            continue
        frames.append(f)
    return frames


@pytest.mark.parametrize("fixture", ["avi_mjpg", "mp4_mp4v", "mkv_xvid"])
def test_every_frame_in_order_with_container_pts(fixture: str, request: pytest.FixtureRequest) -> None:
    path: Path = request.getfixturevalue(fixture)
    src = FileSource(path, camera_id="cam-7")
    assert isinstance(src, FrameSource)
    assert src.live is False
    src.start()
    try:
        frames = read_all(src)
        stats = src.stats()
    finally:
        src.close()
    assert len(frames) == N_FRAMES
    assert [f.index for f in frames] == list(range(N_FRAMES))
    assert [frame_number(f.image) for f in frames] == list(range(N_FRAMES))
    pts = [f.pts_s for f in frames]
    assert pts[0] == pytest.approx(0.0, abs=1e-6)
    assert all(b > a for a, b in itertools.pairwise(pts))
    # Container time: frame i at i / 25 s (to the millisecond).
    assert pts == pytest.approx([i / FPS for i in range(N_FRAMES)], abs=2e-3)
    assert all(f.camera_id == "cam-7" for f in frames)
    assert frames[0].image.shape == (SIZE_PX[1], SIZE_PX[0], 3)
    assert stats.exhausted
    assert stats.last_error is None
    assert stats.frames_read == N_FRAMES
    assert stats.frames_dropped == 0
    assert src.read(0.1) is None


def test_read_after_exhausted_returns_none_at_once(avi_mjpg: Path) -> None:
    with FileSource(avi_mjpg) as src:
        read_all(src)
        t = time.monotonic()
        assert src.read(5.0) is None
        assert time.monotonic() - t < 0.5


@pytest.mark.parametrize("fixture", ["avi_mjpg", "mkv_xvid"])
def test_truncated_file_decodes_what_it_can_then_ends_with_error(
    fixture: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    path = truncate_half(request.getfixturevalue(fixture), tmp_path / f"half{Path(fixture).suffix}.bin")
    with FileSource(path) as src:
        frames = read_all(src)
        stats = src.stats()
    assert 10 <= len(frames) < N_FRAMES
    assert [frame_number(f.image) for f in frames] == list(range(len(frames)))
    assert stats.exhausted
    assert stats.last_error is not None
    assert "truncated or corrupt" in stats.last_error
    assert f"{len(frames)} of {N_FRAMES}" in stats.last_error


def test_truncated_mp4_without_index_cannot_be_opened(mp4_mp4v: Path, tmp_path: Path) -> None:
    # An MP4 written without faststart keeps its index (moov) at the end: half of it is unreadable.
    path = truncate_half(mp4_mp4v, tmp_path / "half.mp4")
    with pytest.raises(VideoError, match="cannot open video file"):
        FileSource(path).start()


def test_zero_byte_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.mp4"
    p.write_bytes(b"")
    with pytest.raises(VideoError, match=r"empty \(0 bytes\)"):
        FileSource(p).start()


def test_text_file(tmp_path: Path) -> None:
    p = tmp_path / "notes.mp4"
    p.write_text("this is not a video\n" * 50)
    with pytest.raises(VideoError, match="cannot open video file"):
        FileSource(p).start()


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(VideoError, match="not found"):
        FileSource(tmp_path / "nope.mp4").start()
    with pytest.raises(VideoError, match="not a regular file"):
        FileSource(tmp_path).start()


def test_realtime_paces_at_native_fps(avi_mjpg: Path) -> None:
    n = 13  # 12 intervals of 40 ms = 0.48 s
    with FileSource(avi_mjpg, realtime=True) as src:
        t0 = time.monotonic()
        frames = [src.read(2.0) for _ in range(n)]
        elapsed = time.monotonic() - t0
    assert all(f is not None for f in frames)
    assert elapsed >= (n - 1) / FPS - 0.01
    captured = [f.captured_monotonic_s for f in frames if f is not None]
    gaps = [b - a for a, b in itertools.pairwise(captured)]
    assert min(gaps) >= 1 / FPS - 0.01


def test_realtime_read_times_out_before_the_frame_is_due(avi_mjpg: Path) -> None:
    with FileSource(avi_mjpg, realtime=True) as src:
        assert src.read(1.0) is not None
        assert src.read(0.0) is None  # frame 1 is due 40 ms later
        f = src.read(1.0)
        assert f is not None
        assert f.index == 1


def test_close_early_stops_the_reader(avi_mjpg: Path) -> None:
    src = FileSource(avi_mjpg, prefetch_frames=2)
    src.start()
    assert src.read(2.0) is not None
    t = time.monotonic()
    src.close()
    assert time.monotonic() - t < 1.0
    assert src._thread is not None
    assert not src._thread.is_alive()
    assert src.read(0.1) is None
    src.close()  # idempotent


def test_start_twice_is_an_error(avi_mjpg: Path) -> None:
    with FileSource(avi_mjpg) as src, pytest.raises(VideoError, match="already started"):
        src.start()
