"""Live cameras: RTSP/RTSPS, HTTP(S) MJPEG and other FFmpeg URLs, and webcams (device index).

One reader thread per camera pulls frames as fast as the camera sends them into a small
drop-oldest buffer, so a slow consumer always gets recent frames and the camera never waits.
Every open and every read has a timeout (FFmpeg's interrupt callback, via OpenCV's
``CAP_PROP_OPEN_TIMEOUT_MSEC`` / ``CAP_PROP_READ_TIMEOUT_MSEC``); when the stream fails, stalls
or ends, the reader reopens it after an exponential backoff with jitter, forever (or until
``give_up_after_s``). The thread stops on ``close``; nothing blocks longer than a timeout.

Credentials never leave this module: logs, errors and ``repr`` show the URI with ``***@``.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import os
import random
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from overt.config import SourceConfig
from overt.domain.frames import Frame
from overt.errors import VideoError
from overt.sources._image import decoded_bgr, fourcc_of
from overt.sources._uri import redact_uri
from overt.sources.base import SourceStats
from overt.sources.pinning import cert_sha256, endpoint, pin_for, presented_cert, self_signed_pem

log = logging.getLogger(__name__)

CAPTURE_OPTIONS_ENV: Final = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
"""OpenCV reads FFmpeg demuxer options from this variable (``key;value|key;value``) at each open."""


class _CaptureOptionsEnv:
    """Serialises the process-wide ``OPENCV_FFMPEG_CAPTURE_OPTIONS`` between concurrent opens.

    OpenCV reads the variable when a capture opens, so a camera may open only while the variable
    holds its options. Cameras that need the same options open concurrently; a camera that needs
    other options waits until those opens finish (each is bounded by its open timeout).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._value: str | None = None
        self._users = 0

    @contextlib.contextmanager
    def use(self, options: str) -> Iterator[None]:
        with self._cond:
            while self._users and self._value != options:
                self._cond.wait()
            if self._users == 0:
                self._value = options
                if os.environ.get(CAPTURE_OPTIONS_ENV) != options:
                    os.environ[CAPTURE_OPTIONS_ENV] = options
            self._users += 1
        try:
            yield
        finally:
            with self._cond:
                self._users -= 1
                self._cond.notify_all()


_CAPTURE_ENV = _CaptureOptionsEnv()


def uses_tls(uri: str) -> bool:
    return uri.lower().startswith(("https://", "rtsps://"))


def capture_options(uri: str, config: SourceConfig) -> str:
    """The FFmpeg options string for ``uri``, merged over the user's.

    ``rtsp_transport`` for RTSP; ``tls_verify`` (and ``ca_file``) for https/rtsps: FFmpeg does
    not verify certificates unless told to, which would hand a camera's credentials to anyone
    in the middle.

    Options already in the environment at import time (``OPENCV_FFMPEG_CAPTURE_OPTIONS``) are
    kept unless Overt sets the same key.
    """
    opts: dict[str, str] = {}
    for pair in _USER_OPTIONS.split("|"):
        key, sep, value = pair.partition(";")
        if sep and key:
            opts[key] = value
    if uri.lower().startswith(("rtsp://", "rtsps://")):
        if config.rtsp_transport == "auto":
            opts.pop("rtsp_transport", None)
            # OpenCV forces tcp when the variable is unset; a harmless key keeps FFmpeg's default.
            opts.setdefault("max_delay", "500000")
        else:
            opts["rtsp_transport"] = config.rtsp_transport
    if uses_tls(uri):
        opts["tls_verify"] = "1" if config.tls_verify else "0"
        if config.tls_ca_file:
            opts["ca_file"] = config.tls_ca_file
    return "|".join(f"{k};{v}" for k, v in opts.items())


_USER_OPTIONS: Final = os.environ.get(CAPTURE_OPTIONS_ENV, "")


def backoff_delays(config: SourceConfig, rng: random.Random) -> Iterator[float]:
    """Waits between reconnect attempts: initial, doubling, capped at max, each with +/- jitter."""
    delay = config.backoff_initial_s
    while True:
        factor = 1.0 + config.backoff_jitter * (2.0 * rng.random() - 1.0)
        yield min(config.backoff_max_s, delay) * factor
        delay = min(config.backoff_max_s, delay * 2.0)


class LiveSource:
    """A live camera behind ``FrameSource``; ``live`` is True: old frames are dropped, not queued.

    ``uri`` is an FFmpeg URL (``rtsp://``, ``rtsps://``, ``http(s)://`` MJPEG...) or a webcam
    device index. ``start`` returns at once (the reader connects in the background, so a dead
    camera never blocks the caller); ``read`` returns the oldest of the (at most
    ``buffer_frames``) newest frames. Frames carry ``index`` counted from ``start`` across
    reconnects, ``pts_s`` = seconds since ``start`` at arrival (strictly increasing, survives
    reconnects, unlike the stream's own clock) and ``captured_monotonic_s`` = ``time.monotonic()``
    at arrival.
    """

    live: bool = True

    def __init__(
        self,
        uri: str | int,
        *,
        camera_id: str = "cam-1",
        config: SourceConfig | None = None,
        close_timeout_s: float = 2.0,
        rng: random.Random | None = None,
    ) -> None:
        if not camera_id:
            raise VideoError("camera_id must not be empty")
        if isinstance(uri, int) and uri < 0:
            raise VideoError(f"webcam index must be >= 0, got {uri}")
        self.camera_id = camera_id
        self._uri = uri
        self.display_uri = f"webcam:{uri}" if isinstance(uri, int) else redact_uri(uri)
        self.config = config or SourceConfig()
        self.close_timeout_s = close_timeout_s
        self._rng = rng or random.Random()  # jitter only; not security relevant
        self._buffer: collections.deque[Frame] = collections.deque()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._ended = False
        self._connected = False
        self._frames_in = 0
        self._frames_read = 0
        self._frames_dropped = 0
        self._reconnects = 0
        self._frames_skipped = 0
        self._last_error: str | None = None
        self._t0 = 0.0
        self._last_pts_s = -1.0
        self._pin_refusals = 0
        self._pin_ca_dir: tempfile.TemporaryDirectory[str] | None = None
        self.pinned_cert_sha256: str | None = pin_for(uri, dict(self.config.tls_pins)) if isinstance(uri, str) else None
        """The SHA-256 the camera's TLS certificate must have (``SourceConfig.tls_pins``), if pinned."""

    def __repr__(self) -> str:
        return f"LiveSource(camera_id={self.camera_id!r}, uri={self.display_uri!r})"

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the reader thread; returns at once. Connection problems show in ``stats()``."""
        if self._thread is not None or self._closed:
            raise VideoError(f"source {self.camera_id} was already started")
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, name=f"overt-live-{self.camera_id}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the reader; waits at most ``close_timeout_s`` for it (a read in flight ends by its
        own timeout and releases the capture). Idempotent; never hangs."""
        self._closed = True
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.close_timeout_s)
            if thread.is_alive():
                log.warning(
                    "reader of %s still busy after %.1f s; it ends on its own", self.camera_id, self.close_timeout_s
                )
        with self._cond:
            self._buffer.clear()
        if self._pin_ca_dir is not None:
            self._pin_ca_dir.cleanup()
            self._pin_ca_dir = None

    def __enter__(self) -> LiveSource:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- consumer side ------------------------------------------------------------------------
    def read(self, timeout_s: float) -> Frame | None:
        """The oldest buffered frame, waiting at most ``timeout_s``; ``None`` if none came."""
        deadline = time.monotonic() + max(0.0, timeout_s)
        with self._cond:
            while not self._buffer:
                if self._closed or self._ended:
                    return None
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
            self._frames_read += 1
            return self._buffer.popleft()

    def stats(self) -> SourceStats:
        with self._cond:
            return SourceStats(
                camera_id=self.camera_id,
                frames_read=self._frames_read,
                frames_dropped=self._frames_dropped,
                reconnects=self._reconnects,
                connected=self._connected,
                exhausted=self._ended,
                last_error=self._last_error,
                frames_skipped=self._frames_skipped,
                tls_pin_refusals=self._pin_refusals,
            )

    # -- reader thread ------------------------------------------------------------------------
    def _set_error(self, message: str) -> None:
        """Record ``message``; log it as a warning unless it repeats the previous one (debug)."""
        with self._cond:
            repeated = message == self._last_error
            self._last_error = message
        level = logging.DEBUG if repeated else logging.WARNING
        log.log(level, "%s (%s): %s", self.camera_id, self.display_uri, message)

    def _push(self, image: npt.NDArray[np.uint8], stream_pts_s: float | None = None, codec: str | None = None) -> None:
        now = time.monotonic()
        pts_s = max(now - self._t0, self._last_pts_s + 1e-6, 0.0)
        self._last_pts_s = pts_s
        frame = Frame(
            camera_id=self.camera_id,
            index=self._frames_in,
            pts_s=pts_s,
            captured_monotonic_s=now,
            image=image,
            stream_pts_s=stream_pts_s,
            codec=codec,
        )
        self._frames_in += 1
        with self._cond:
            if self._closed:
                return
            while len(self._buffer) >= self.config.buffer_frames:
                self._buffer.popleft()
                self._frames_dropped += 1
            self._buffer.append(frame)
            self._cond.notify()

    def _check_pin(self, uri: str, cfg: SourceConfig) -> SourceConfig | None:
        """Refuse the camera (``None``) unless it presents the pinned certificate; the config to
        open it with (FFmpeg verifies against a pinned self-signed certificate too)."""
        pin = self.pinned_cert_sha256
        ep = endpoint(uri)
        if pin is None or ep is None:
            return cfg
        try:
            der = presented_cert(ep[0], ep[1], cfg.open_timeout_s)
        except VideoError as exc:
            self._set_error(f"cannot check the pinned certificate: {exc}")
            return None
        got = cert_sha256(der)
        if got != pin:
            with self._cond:
                self._pin_refusals += 1
            self._set_error(
                f"camera refused: its TLS certificate changed (pinned sha256 {pin[:16]}..., presented {got[:16]}...)"
            )
            return None
        pem = self_signed_pem(der)
        if pem is None or not cfg.tls_verify or cfg.tls_ca_file:
            return cfg
        if self._pin_ca_dir is None:
            self._pin_ca_dir = tempfile.TemporaryDirectory(prefix="overt-pin-")
        ca = Path(self._pin_ca_dir.name) / "pinned.pem"
        ca.write_bytes(pem)
        return cfg.model_copy(update={"tls_ca_file": str(ca)})

    def _open(self) -> cv2.VideoCapture | None:
        cfg = self.config
        uri = self._uri
        if isinstance(uri, str):
            checked = self._check_pin(uri, cfg)
            if checked is None:
                return None
            cfg = checked
        try:
            if isinstance(uri, int):
                # V4L2 and friends bound a read by their own select() timeout; they reject the
                # FFmpeg timeout properties, so none are passed.
                cap = cv2.VideoCapture(uri, cv2.CAP_ANY)
            else:
                params = [
                    cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                    round(cfg.open_timeout_s * 1000),
                    cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                    round(cfg.read_timeout_s * 1000),
                ]
                if cfg.decoder_threads:
                    params += [cv2.CAP_PROP_N_THREADS, cfg.decoder_threads]
                with _CAPTURE_ENV.use(capture_options(uri, cfg)):
                    cap = cv2.VideoCapture(uri, cv2.CAP_FFMPEG, params)
        except cv2.error as exc:
            self._set_error(f"cannot open stream: {type(exc).__name__}")
            return None
        if not cap.isOpened():
            cap.release()
            hint = ""
            if isinstance(uri, str) and uses_tls(uri) and cfg.tls_verify:
                hint = "; or its TLS certificate failed verification (set tls_ca_file to its CA)"
            self._set_error(
                f"cannot open stream (no answer within {cfg.open_timeout_s:g} s, refused, or not video{hint})"
            )
            return None
        return cap

    def _pump(self, cap: cv2.VideoCapture) -> int:
        """Read frames until stop, a stall, or the end of the stream. Returns the frames read.

        A read that fails fast (a corrupt frame: OpenCV reports a frame it cannot decode as a
        failed read) is skipped and counted, up to ``max_bad_frames`` in a row. A read that fails
        or succeeds only after ``read_timeout_s`` is a stall: after FFmpeg's interrupt OpenCV may
        still hand out frames the decoder had buffered, one per timeout, which would hide a dead
        publisher for several timeouts.
        """
        n = 0
        bad = 0
        timeout_s = self.config.read_timeout_s
        codec = fourcc_of(cap)
        while not self._stop.is_set():
            t = time.monotonic()
            ok, raw = cap.read()
            image = decoded_bgr(raw) if ok else None
            slow = time.monotonic() - t >= timeout_s
            if image is None:
                if slow:
                    self._set_error(f"stream stalled after {n} frames (no frame within {timeout_s:g} s)")
                    break
                bad += 1
                if bad > self.config.max_bad_frames:
                    self._set_error(f"stream ended or broken after {n} frames ({bad} failed reads in a row)")
                    break
                with self._cond:
                    self._frames_skipped += 1
                continue
            if n and slow:
                self._set_error(f"stream stalled after {n} frames (a frame took over {timeout_s:g} s)")
                break
            bad = 0
            if n == 0:
                with self._cond:
                    self._connected = True
                    self._last_error = None
                log.info("%s: connected to %s", self.camera_id, self.display_uri)
            n += 1
            pos_ms = float(cap.get(cv2.CAP_PROP_POS_MSEC))
            self._push(image, pos_ms / 1000.0 if math.isfinite(pos_ms) and pos_ms >= 0 else None, codec)
        return n

    def _run(self) -> None:
        cfg = self.config
        delays = backoff_delays(cfg, self._rng)
        last_frame_at = time.monotonic()
        attempt = 0
        try:
            while not self._stop.is_set():
                if attempt:
                    with self._cond:
                        self._reconnects += 1
                attempt += 1
                try:
                    cap = self._open()
                    if cap is not None:
                        try:
                            got = self._pump(cap)
                        finally:
                            cap.release()
                            with self._cond:
                                self._connected = False
                        if got:
                            last_frame_at = time.monotonic()
                            delays = backoff_delays(cfg, self._rng)
                except Exception as exc:  # never die: record it, back off, reconnect
                    self._set_error(f"reader error: {type(exc).__name__}: {self._scrub(str(exc))}")
                if self._stop.is_set():
                    break
                if cfg.give_up_after_s is not None and time.monotonic() - last_frame_at > cfg.give_up_after_s:
                    self._set_error(f"gave up after {cfg.give_up_after_s:g} s without a frame ({attempt} attempts)")
                    with self._cond:
                        self._ended = True
                    break
                self._stop.wait(next(delays))
        finally:
            with self._cond:
                self._connected = False
                self._cond.notify_all()

    def _scrub(self, text: str) -> str:
        """Remove the raw URI (and so its credentials) from a message."""
        raw = str(self._uri)
        return text.replace(raw, self.display_uri) if raw else text
