"""Frame sources for tests: frames from memory, or a video file read with OpenCV."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from overt.domain.frames import Frame
from overt.sources.base import FrameSource, SourceStats


class ListSource:
    """Delivers the given images as a file source would (every frame, then exhausted)."""

    live = False

    def __init__(self, camera_id: str, images: Iterable[npt.NDArray[np.uint8]], fps: float = 25.0) -> None:
        self.camera_id = camera_id
        self._images: Iterator[npt.NDArray[np.uint8]] = iter(images)
        self.fps = fps
        self._read = 0
        self._exhausted = False
        self.closed = False

    def start(self) -> None:
        return None

    def read(self, timeout_s: float) -> Frame | None:
        if self._exhausted:
            return None
        try:
            img = next(self._images)
        except StopIteration:
            self._exhausted = True
            return None
        frame = Frame(self.camera_id, self._read, self._read / self.fps, time.monotonic(), img)
        self._read += 1
        return frame

    def stats(self) -> SourceStats:
        return SourceStats(self.camera_id, self._read, 0, 0, not self._exhausted, self._exhausted)

    def close(self) -> None:
        self.closed = True


def video_frames(path: str | Path) -> Iterator[npt.NDArray[np.uint8]]:
    cap = cv2.VideoCapture(str(path))
    try:
        while True:
            ok, img = cap.read()
            if not ok:
                break
            yield np.ascontiguousarray(img, dtype=np.uint8)
    finally:
        cap.release()


class BrokenSource(ListSource):
    """Raises after ``fail_after`` frames (a truncated file, a dead camera)."""

    def __init__(self, camera_id: str, images: Iterable[npt.NDArray[np.uint8]], fail_after: int) -> None:
        super().__init__(camera_id, images)
        self.fail_after = fail_after

    def read(self, timeout_s: float) -> Frame | None:
        if self._read >= self.fail_after:
            from overt.errors import VideoError

            raise VideoError("stream broke")
        return super().read(timeout_s)


class LimitedSource:
    """Wraps a source and ends it after ``max_frames`` frames (keeps dev-data tests short)."""

    def __init__(self, inner: FrameSource, max_frames: int) -> None:
        self.inner = inner
        self.camera_id = inner.camera_id
        self.live = inner.live
        self.fps = getattr(inner, "fps", None)
        self.max_frames = max_frames
        self._n = 0

    def start(self) -> None:
        self.inner.start()
        self.fps = getattr(self.inner, "fps", None)

    def read(self, timeout_s: float) -> Frame | None:
        if self._n >= self.max_frames:
            return None
        frame = self.inner.read(timeout_s)
        if frame is not None:
            self._n += 1
        return frame

    def stats(self) -> SourceStats:
        s = self.inner.stats()
        if self._n >= self.max_frames:
            return SourceStats(s.camera_id, s.frames_read, s.frames_dropped, s.reconnects, False, True)
        return s

    def close(self) -> None:
        self.inner.close()


class ReconnectingSource(ListSource):
    """A live camera, paced at ``fps``, whose stream drops and is reopened before frame ``reconnect_at``."""

    live = True

    def __init__(
        self, camera_id: str, images: Iterable[npt.NDArray[np.uint8]], *, reconnect_at: int, fps: float = 10.0
    ) -> None:
        super().__init__(camera_id, images, fps=fps)
        self.reconnect_at = reconnect_at
        self._reconnects = 0

    def read(self, timeout_s: float) -> Frame | None:
        time.sleep(1.0 / self.fps)
        if self._read == self.reconnect_at:
            self._reconnects += 1
        return super().read(timeout_s)

    def stats(self) -> SourceStats:
        s = super().stats()
        return SourceStats(s.camera_id, s.frames_read, 0, self._reconnects, s.connected, s.exhausted)
