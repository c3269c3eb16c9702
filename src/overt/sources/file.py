"""Video files: every frame, in order, decoded ahead by one thread, optionally paced at native fps.

A file that cannot be opened (missing, empty, not a video, no decodable frame) raises
:class:`~overt.errors.VideoError` from :meth:`FileSource.start`. A file that breaks part-way
(truncated, corrupt tail) delivers every frame FFmpeg can decode, then ends with
``stats().last_error`` saying how many of the expected frames came.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import queue
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Final, cast

import cv2

from overt.domain.frames import Frame
from overt.errors import VideoError
from overt.sources._image import decoded_bgr, fourcc_of
from overt.sources.base import SourceStats

log = logging.getLogger(__name__)

FALLBACK_FPS: Final = 25.0
"""Frame rate assumed when the container states none (pts then count frames at this rate)."""

_END: Final = object()


def _valid_fps(value: float) -> float | None:
    return value if math.isfinite(value) and 0.0 < value <= 1000.0 else None


class FileSource:
    """A video file read with OpenCV's FFmpeg backend; ``live`` is False: no frame is dropped.

    A reader thread decodes up to ``prefetch_frames`` ahead (decoding overlaps the consumer's
    work; OpenCV releases the GIL). ``pts_s`` comes from the container (``CAP_PROP_POS_MSEC``)
    and falls back to ``previous + 1 / fps`` whenever the container's time is missing or not
    increasing, so it is always strictly increasing. ``captured_monotonic_s`` is stamped when
    ``read`` hands the frame out. With ``realtime=True`` ``read`` paces frames at their pts.
    """

    live: bool = False

    def __init__(
        self,
        path: str | Path,
        *,
        camera_id: str = "cam-1",
        realtime: bool = False,
        prefetch_frames: int = 8,
        close_timeout_s: float = 2.0,
        max_bad_frames: int = 5,
    ) -> None:
        if not camera_id:
            raise VideoError("camera_id must not be empty")
        if prefetch_frames < 1:
            raise VideoError(f"prefetch_frames must be >= 1, got {prefetch_frames}")
        self.camera_id = camera_id
        self.path = Path(path)
        self.realtime = realtime
        self.close_timeout_s = close_timeout_s
        self.max_bad_frames = max_bad_frames
        self._skipped = 0
        self.fps: float | None = None
        self.frame_count: int | None = None
        self._queue: queue.Queue[object] = queue.Queue(maxsize=prefetch_frames)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._cap: cv2.VideoCapture | None = None
        self._pending: Frame | None = None
        self._ended = False
        self._closed = False
        self._frames_read = 0
        self._frames_decoded = 0
        self._last_pts_s = -1.0
        self._codec: str | None = None
        self._last_error: str | None = None
        self._pace_origin: tuple[float, float] | None = None  # (monotonic, pts) of the first frame out

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Open the file and decode its first frame; raise ``VideoError`` if that is impossible."""
        if self._thread is not None or self._closed:
            raise VideoError(f"source {self.camera_id} was already started")
        p = self.path
        if not p.exists():
            raise VideoError(f"video file {p} not found")
        if not p.is_file():
            raise VideoError(f"video file {p} is not a regular file")
        try:
            size = p.stat().st_size
        except OSError as exc:
            raise VideoError(f"video file {p}: {exc.strerror or exc}") from None
        if size == 0:
            raise VideoError(f"video file {p} is empty (0 bytes)")
        cap = cv2.VideoCapture(str(p), cv2.CAP_FFMPEG)
        if not cap.isOpened():
            cap.release()
            raise VideoError(f"cannot open video file {p}: not a video FFmpeg can read, or truncated/corrupt")
        self.fps = _valid_fps(float(cap.get(cv2.CAP_PROP_FPS)))
        self._codec = fourcc_of(cap)
        count = float(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count = int(count) if math.isfinite(count) and count >= 1 else None
        first = self._decode(cap)
        if first is None:
            cap.release()
            raise VideoError(f"video file {p} holds no decodable video frame")
        self._cap = cap
        self._queue.put_nowait(first)
        self._thread = threading.Thread(target=self._run, name=f"overt-file-{self.camera_id}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the reader thread (joined with a timeout) and release the file. Idempotent."""
        self._closed = True
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(self.close_timeout_s)
            if thread.is_alive():
                log.warning("reader of %s did not stop within %.1f s", self.camera_id, self.close_timeout_s)
        elif self._cap is not None:
            self._cap.release()
            self._cap = None
        self._pending = None
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break

    def __enter__(self) -> FileSource:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- reading ------------------------------------------------------------------------------
    def read(self, timeout_s: float) -> Frame | None:
        """The next frame, or ``None`` after ``timeout_s`` or once the file is exhausted."""
        if self._closed or self._thread is None:
            return None
        deadline = time.monotonic() + max(0.0, timeout_s)
        if self._pending is None:
            if self._ended:
                return None
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if item is _END:
                with self._lock:
                    self._ended = True
                return None
            self._pending = cast(Frame, item)
        frame = self._pending
        now = time.monotonic()
        if self.realtime:
            if self._pace_origin is None:
                self._pace_origin = (now, frame.pts_s)
            due = self._pace_origin[0] + (frame.pts_s - self._pace_origin[1])
            if due > deadline:
                time.sleep(max(0.0, deadline - now))
                return None
            if due > now:
                time.sleep(due - now)
                now = time.monotonic()
        self._pending = None
        with self._lock:
            self._frames_read += 1
        return dataclasses.replace(frame, captured_monotonic_s=now)

    def stats(self) -> SourceStats:
        with self._lock:
            return SourceStats(
                camera_id=self.camera_id,
                frames_read=self._frames_read,
                frames_dropped=0,
                reconnects=0,
                connected=self._thread is not None and not self._ended and not self._closed,
                exhausted=self._ended,
                last_error=self._last_error,
                frames_skipped=self._skipped,
            )

    # -- reader thread ------------------------------------------------------------------------
    def _decode(self, cap: cv2.VideoCapture) -> Frame | None:
        ok, raw = cap.read()
        image = decoded_bgr(raw) if ok else None
        if image is None:
            return None
        fps = self.fps or FALLBACK_FPS
        pos_ms = float(cap.get(cv2.CAP_PROP_POS_MSEC))
        index = self._frames_decoded
        if math.isfinite(pos_ms) and pos_ms >= 0 and pos_ms / 1000.0 > self._last_pts_s:
            pts_s = pos_ms / 1000.0
        else:
            pts_s = max(0.0, self._last_pts_s + 1.0 / fps) if index else 0.0
        self._last_pts_s = pts_s
        self._frames_decoded += 1
        return Frame(
            camera_id=self.camera_id,
            index=index,
            pts_s=pts_s,
            captured_monotonic_s=time.monotonic(),
            image=image,
            stream_pts_s=pos_ms / 1000.0 if math.isfinite(pos_ms) and pos_ms >= 0 else None,
            codec=self._codec,
        )

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        cap = self._cap
        assert cap is not None
        error: str | None = None
        try:
            failures = 0
            while not self._stop.is_set():
                frame = self._decode(cap)
                if frame is None:
                    # OpenCV reports a frame it cannot decode as a failed read: when the
                    # container promises more frames, try a few more reads before ending.
                    failures += 1
                    if failures <= self.max_bad_frames and self._more_expected():
                        continue
                    error = self._end_error()
                    break
                if failures:
                    with self._lock:
                        self._skipped += failures
                    failures = 0
                if not self._put(frame):
                    break
        except Exception as exc:  # a decoder failure must end the source, never kill the process
            error = f"decoding {self.path.name} failed after {self._frames_decoded} frames: {exc}"
            log.warning("%s: %s", self.camera_id, error)
        finally:
            cap.release()
            self._cap = None
            with self._lock:
                self._last_error = error
            self._put(_END)

    def _more_expected(self) -> bool:
        return self.frame_count is not None and self._frames_decoded < self.frame_count

    def _end_error(self) -> str | None:
        """``None`` for a clean end; a message when fewer frames came than the container promised."""
        expected = self.frame_count
        got = self._frames_decoded
        if expected is None or got >= expected - max(2, expected // 100):
            return None
        msg = f"video {self.path.name}: decoded {got} of {expected} frames: truncated or corrupt"
        log.warning("%s: %s", self.camera_id, msg)
        return msg
