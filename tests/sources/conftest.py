"""Test videos made by the tests themselves: a sample photo moving across the frame."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

N_FRAMES = 60
FPS = 25.0
SIZE_PX = (320, 240)


def moving_face_frames(
    face_bgr: npt.NDArray[np.uint8], n: int = N_FRAMES, size_px: tuple[int, int] = SIZE_PX
) -> list[npt.NDArray[np.uint8]]:
    """``n`` BGR frames of ``size_px`` (w, h): the photo at half height sliding left to right.

    A 16-pixel stripe on top encodes the frame number in 8 black/white blocks (one bit each),
    so tests recognise which frame they got even after lossy compression.
    """
    w, h = size_px
    fh = h // 2
    fw = max(1, face_bgr.shape[1] * fh // face_bgr.shape[0])
    face = cv2.resize(face_bgr, (fw, fh))
    frames = []
    for i in range(n):
        f = np.full((h, w, 3), 40, np.uint8)
        x = (i * 3) % max(1, w - fw)
        f[h // 4 : h // 4 + fh, x : x + fw] = face
        bw = w // 8
        for bit in range(8):
            f[:16, bit * bw : (bit + 1) * bw] = 255 if (i >> bit) & 1 else 0
        frames.append(f)
    return frames


def frame_number(image: npt.NDArray[np.uint8]) -> int:
    """Inverse of the frame-number stripe of :func:`moving_face_frames`."""
    bw = image.shape[1] // 8
    bits = [float(image[3:13, b * bw + 4 : (b + 1) * bw - 4].mean()) > 127 for b in range(8)]
    return sum(1 << b for b, on in enumerate(bits) if on)


def write_video(path: Path, frames: list[npt.NDArray[np.uint8]], fourcc: str, fps: float = FPS) -> Path:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), fps, (w, h))
    if not writer.isOpened():
        pytest.skip(f"OpenCV cannot write {fourcc} video here")
    for f in frames:
        writer.write(f)
    writer.release()
    return path


@pytest.fixture(scope="session")
def clip_frames(yaoming_bgr: npt.NDArray[np.uint8]) -> list[npt.NDArray[np.uint8]]:
    return moving_face_frames(yaoming_bgr)


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("videos")


@pytest.fixture(scope="session")
def avi_mjpg(video_dir: Path, clip_frames: list[npt.NDArray[np.uint8]]) -> Path:
    """60 frames, 25 fps, MJPEG in AVI (index at the end, frame count in the header)."""
    return write_video(video_dir / "clip.avi", clip_frames, "MJPG")


@pytest.fixture(scope="session")
def mp4_mp4v(video_dir: Path, clip_frames: list[npt.NDArray[np.uint8]]) -> Path:
    """60 frames, 25 fps, MPEG-4 part 2 in MP4 (moov atom at the end)."""
    return write_video(video_dir / "clip.mp4", clip_frames, "mp4v")


@pytest.fixture(scope="session")
def mkv_xvid(video_dir: Path, clip_frames: list[npt.NDArray[np.uint8]]) -> Path:
    """60 frames, 25 fps, MPEG-4 part 2 in Matroska (header with duration first)."""
    return write_video(video_dir / "clip.mkv", clip_frames, "XVID")


def truncate_half(src: Path, dst: Path) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: len(data) // 2])
    return dst
