"""A folder of images as a (non-live) frame source: every readable image, in natural name order."""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Final

from overt.domain.frames import Frame
from overt.errors import ImageError, VideoError
from overt.sources.base import SourceStats
from overt.vision.imageio import DEFAULT_MAX_PIXELS, read_image

log = logging.getLogger(__name__)

IMAGE_SUFFIXES: Final = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".ppm", ".pgm", ".pbm"}
)
"""Files with these suffixes (any case) are frames; other files and hidden files are ignored."""

_DIGITS = re.compile(r"(\d+)")


def _natural_key(path: Path) -> tuple[tuple[int, int | str], ...]:
    """``frame2.jpg`` before ``frame10.jpg``."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in _DIGITS.split(path.name) if part)


class ImageFolderSource:
    """The images of one folder (not recursive) as frames ``0, 1, ...`` with ``pts_s = index / fps``.

    Images are decoded with :func:`overt.vision.imageio.read_image` when read; one that cannot be
    decoded is skipped and counted (``stats().frames_skipped``, ``last_error`` names the file),
    never fatal. A folder without a single image file raises ``VideoError`` at ``start``.
    """

    live: bool = False

    def __init__(
        self,
        folder: str | Path,
        *,
        camera_id: str = "cam-1",
        fps: float = 25.0,
        realtime: bool = False,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        if not camera_id:
            raise VideoError("camera_id must not be empty")
        if not 0 < fps <= 1000:
            raise VideoError(f"fps must lie in (0, 1000], got {fps}")
        self.camera_id = camera_id
        self.folder = Path(folder)
        self.fps = fps
        self.realtime = realtime
        self.max_pixels = max_pixels
        self._files: list[Path] = []
        self._next = 0
        self._index = 0
        self._started = False
        self._closed = False
        self._skipped = 0
        self._last_error: str | None = None
        self._pace_origin: float | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """List the folder; raise ``VideoError`` if it is missing or holds no image file."""
        if not self.folder.is_dir():
            raise VideoError(f"image folder {self.folder} not found or not a folder")
        try:
            entries = list(self.folder.iterdir())
        except OSError as exc:
            raise VideoError(f"image folder {self.folder}: {exc.strerror or exc}") from None
        files = [
            p for p in entries if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and p.is_file()
        ]
        if not files:
            raise VideoError(f"image folder {self.folder} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        self._files = sorted(files, key=_natural_key)
        self._started = True

    def read(self, timeout_s: float) -> Frame | None:
        """The next readable image as a frame; ``None`` once every file was tried (or on pacing timeout)."""
        if not self._started or self._closed:
            return None
        deadline = time.monotonic() + max(0.0, timeout_s)
        if self.realtime:
            now = time.monotonic()
            if self._pace_origin is None:
                self._pace_origin = now
            due = self._pace_origin + self._index / self.fps
            if due > deadline:
                time.sleep(max(0.0, deadline - now))
                return None
            if due > now:
                time.sleep(due - now)
        while self._next < len(self._files):
            path = self._files[self._next]
            self._next += 1
            try:
                image = read_image(path, max_pixels=self.max_pixels)
            except ImageError as exc:
                with self._lock:
                    self._skipped += 1
                    self._last_error = f"skipped unreadable image: {exc}"
                log.warning("%s: skipped unreadable image %s", self.camera_id, path.name)
                continue
            index = self._index
            self._index += 1
            return Frame(
                camera_id=self.camera_id,
                index=index,
                pts_s=index / self.fps,
                captured_monotonic_s=time.monotonic(),
                image=image,
            )
        return None

    def stats(self) -> SourceStats:
        with self._lock:
            exhausted = self._started and self._next >= len(self._files)
            return SourceStats(
                camera_id=self.camera_id,
                frames_read=self._index,
                frames_dropped=0,
                reconnects=0,
                connected=self._started and not self._closed and not exhausted,
                exhausted=exhausted,
                last_error=self._last_error,
                frames_skipped=self._skipped,
            )

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> ImageFolderSource:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
