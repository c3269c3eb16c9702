"""Synthetic scenes for stream-integrity tests, and ffmpeg manipulations of them.

A scene is a smooth random background with a few discs on random walks (it never repeats), and
a 10-bit stripe on top naming the source frame, so a reader knows which frame it got even after
H.264. Manipulations are ffmpeg filters applied to an encoded clip: a freeze (``freezeframes``),
a replayed segment (``loop``), a splice of another scene (``concat``).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from tests.sources.servers import FFMPEG_BIN, make_h264_clip

FPS = 25
STRIPE_BITS = 10


def scene_frames(
    n: int, seed: int, size_px: tuple[int, int] = (320, 240), first: int = 0
) -> list[npt.NDArray[np.uint8]]:
    w, h = size_px
    rng = np.random.default_rng(seed)
    bg = cv2.resize(rng.uniform(40, 210, (6, 8, 3)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    bg = np.clip(bg, 0, 255).astype(np.uint8)
    pos = rng.uniform([40, 60], [w - 40, h - 40], (4, 2))
    vel = rng.normal(0, 4, (4, 2))
    colours = [tuple(int(c) for c in rng.integers(0, 255, 3)) for _ in range(4)]
    frames = []
    for i in range(n):
        f = np.ascontiguousarray(bg, dtype=np.uint8).copy()
        vel = 0.9 * vel + rng.normal(0, 1.5, (4, 2))
        pos = pos + vel
        for k in range(4):
            for d in range(2):
                lo, hi = (40, (w, h)[d] - 40) if d == 0 else (60, h - 40)
                if not lo <= pos[k, d] <= hi:
                    vel[k, d] = -vel[k, d]
                    pos[k, d] = min(max(pos[k, d], lo), hi)
            cv2.circle(f, (int(pos[k, 0]), int(pos[k, 1])), 30, colours[k], -1)
        put_stripe(f, first + i)
        frames.append(f)
    return frames


def put_stripe(image: npt.NDArray[np.uint8], number: int) -> None:
    bw = image.shape[1] // STRIPE_BITS
    for bit in range(STRIPE_BITS):
        image[:16, bit * bw : (bit + 1) * bw] = 255 if (number >> bit) & 1 else 0


def stripe_number(image: npt.NDArray[np.uint8]) -> int:
    bw = image.shape[1] // STRIPE_BITS
    bits = [float(image[3:13, b * bw + 4 : (b + 1) * bw - 4].mean()) > 127 for b in range(STRIPE_BITS)]
    return sum(1 << b for b, on in enumerate(bits) if on)


def ffmpeg_filter(inputs: list[Path], graph: str, out: Path) -> Path:
    """Apply ``graph`` (a filter_complex ending in [v]) to ``inputs``; H.264, keyframe every 10."""
    cmd = [FFMPEG_BIN, "-hide_banner", "-loglevel", "error", "-y"]
    for p in inputs:
        cmd += ["-i", str(p)]
    cmd += ["-filter_complex", graph, "-map", "[v]", "-r", str(FPS), "-c:v", "libx264", "-preset", "ultrafast"]
    cmd += ["-tune", "zerolatency", "-g", "10", "-pix_fmt", "yuv420p", str(out)]
    subprocess.run(cmd, check=True, timeout=120)
    return out


def base_clip(
    directory: Path, seconds: int = 16, seed: int = 1, size_px: tuple[int, int] = (320, 240), first: int = 0
) -> Path:
    """``seconds`` of scene ``seed``; stripe numbers start at ``first``."""
    name = f"scene_{seed}_{size_px[0]}x{size_px[1]}_{seconds}s.mp4"
    return make_h264_clip(scene_frames(seconds * FPS, seed, size_px, first), directory / name, fps=FPS)


def frozen_clip(directory: Path, base: Path, at_frame: int) -> Path:
    """Frames from ``at_frame`` on replaced by frame ``at_frame`` (a still injected)."""
    graph = f"[0:v][1:v]freezeframes=first={at_frame}:last=100000:replace={at_frame},setpts=N/{FPS}/TB[v]"
    return ffmpeg_filter([base, base], graph, directory / "frozen.mp4")


def looped_clip(directory: Path, base: Path, start: int, size: int) -> Path:
    """Frames [start, start + size) played twice in a row (a replayed segment), then the rest."""
    graph = f"[0:v]loop=loop=1:size={size}:start={start},setpts=N/{FPS}/TB[v]"
    return ffmpeg_filter([base], graph, directory / "looped.mp4")


def spliced_clip(directory: Path, base: Path, other: Path, at_s: float) -> Path:
    """The first ``at_s`` seconds of ``base``, then ``other`` (another scene, same size)."""
    graph = (
        f"[0:v]trim=end={at_s},setpts=PTS-STARTPTS[a];[1:v]setpts=PTS-STARTPTS[b];"
        f"[a][b]concat=n=2:v=1,setpts=N/{FPS}/TB[v]"
    )
    return ffmpeg_filter([base, other], graph, directory / "spliced.mp4")
