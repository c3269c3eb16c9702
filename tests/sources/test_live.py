"""LiveSource against real servers: rtsp-server-perl + ffmpeg, an MJPEG HTTP server, dead sockets.

Kill the publisher or the server mid-stream and restart it: the source reconnects and frames
flow again. A URL that never answers: no hang, attempts counted, ``close`` returns quickly.
Every test is bounded (``pytest.mark.timeout``); timings are logged, never asserted tightly.
"""

from __future__ import annotations

import itertools
import logging
import os
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from overt.config import SourceConfig
from overt.domain.frames import Frame
from overt.sources import FrameSource, LiveSource
from overt.sources.live import CAPTURE_OPTIONS_ENV, _CaptureOptionsEnv, backoff_delays, capture_options
from tests.sources.conftest import frame_number, moving_face_frames
from tests.sources.servers import (
    GstRtspServer,
    MjpegServer,
    RtspServer,
    closed_port,
    make_h264_clip,
    missing_gst_rtsp,
    missing_rtsp_binaries,
    self_signed_tls,
    silent_tcp_server,
)

log = logging.getLogger(__name__)

CLIP_FRAMES = 100  # 4 s at 25 fps, looped by the publisher

RTSP_CFG = SourceConfig(
    rtsp_transport="udp",  # rtsp-server-perl has no RTP-over-TCP
    open_timeout_s=3.0,
    read_timeout_s=1.5,
    backoff_initial_s=0.2,
    backoff_max_s=1.0,
    buffer_frames=50,
)
DEAD_CFG = SourceConfig(open_timeout_s=0.5, read_timeout_s=0.5, backoff_initial_s=0.05, backoff_max_s=0.2)


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail where CI promised the services (``OVERT_REQUIRE_STREAM_TESTS=1``)."""
    if os.environ.get("OVERT_REQUIRE_STREAM_TESTS") == "1":
        pytest.fail(f"stream test services missing although OVERT_REQUIRE_STREAM_TESTS=1: {reason}")
    pytest.skip(reason)


def read_frames(src: FrameSource, n: int, timeout_s: float, *, after: float | None = None) -> list[Frame]:
    """Up to ``n`` frames within ``timeout_s`` (only frames captured after ``after`` count)."""
    got: list[Frame] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < n and time.monotonic() < deadline:
        f = src.read(0.2)
        if f is not None and (after is None or f.captured_monotonic_s > after):
            got.append(f)
    return got


def mostly_consecutive(frames: list[Frame], modulo: int) -> bool:
    nums = [frame_number(f.image) for f in frames]
    steps = [(b - a) % modulo for a, b in itertools.pairwise(nums)]
    return sum(s == 1 for s in steps) >= 0.8 * len(steps)


# -- RTSP (real server) --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def rtsp_clip(tmp_path_factory: pytest.TempPathFactory, yaoming_bgr: npt.NDArray[np.uint8]) -> Path:
    if (why := missing_rtsp_binaries()) is not None:
        unavailable(why)
    frames = moving_face_frames(yaoming_bgr, n=CLIP_FRAMES)
    return make_h264_clip(frames, tmp_path_factory.mktemp("rtsp") / "clip.mp4")


@pytest.fixture
def rtsp_server(tmp_path: Path, rtsp_clip: Path) -> Iterator[RtspServer]:
    srv = RtspServer(tmp_path)
    srv.start()
    try:
        srv.publish(rtsp_clip)
        if not srv.wait_published():
            pytest.fail("the ffmpeg publisher did not get on rtsp-server-perl within 10 s")
        yield srv
    finally:
        srv.close()


@pytest.mark.rtsp
@pytest.mark.timeout(60)
def test_rtsp_reads_frames_over_udp(rtsp_server: RtspServer) -> None:
    with LiveSource(rtsp_server.url(), camera_id="cam-4", config=RTSP_CFG) as src:
        assert isinstance(src, FrameSource)
        frames = read_frames(src, 30, 20.0)
        stats = src.stats()
    assert len(frames) == 30, stats
    assert all(f.image.shape == (240, 320, 3) and f.camera_id == "cam-4" for f in frames)
    assert [f.index for f in frames] == sorted(f.index for f in frames)
    assert all(b.pts_s > a.pts_s for a, b in itertools.pairwise(frames))
    assert mostly_consecutive(frames, CLIP_FRAMES)
    assert stats.connected
    assert stats.frames_read == 30


@pytest.mark.rtsp
@pytest.mark.timeout(90)
def test_rtsp_publisher_killed_and_restarted(rtsp_server: RtspServer, record_property: object) -> None:
    with LiveSource(rtsp_server.url(), config=RTSP_CFG) as src:
        assert len(read_frames(src, 10, 20.0)) == 10
        rtsp_server.kill_publisher()  # SIGTERM: the publisher goes away mid-stream
        killed_at = time.monotonic()
        deadline = killed_at + 15
        while src.stats().connected and time.monotonic() < deadline:
            src.read(0.1)
        stalled_s = time.monotonic() - killed_at
        assert not src.stats().connected, "stall not detected"
        time.sleep(1.0)  # the camera stays away a while: the reader keeps trying, without hanging
        rtsp_server.publish(rtsp_server.clip or Path())
        restarted_at = time.monotonic()
        again = read_frames(src, 10, 30.0, after=restarted_at)
        stats = src.stats()
    assert len(again) == 10, stats
    assert stats.reconnects >= 1
    assert mostly_consecutive(again, CLIP_FRAMES)
    reconnect_s = again[0].captured_monotonic_s - restarted_at
    log.info("publisher restart: stall detected in %.2f s, frames again %.2f s after restart", stalled_s, reconnect_s)
    if callable(record_property):
        record_property("stall_detected_s", round(stalled_s, 2))
        record_property("reconnect_after_restart_s", round(reconnect_s, 2))


@pytest.mark.rtsp
@pytest.mark.timeout(90)
def test_rtsp_server_killed_and_restarted(rtsp_server: RtspServer, record_property: object) -> None:
    with LiveSource(rtsp_server.url(), config=RTSP_CFG) as src:
        assert len(read_frames(src, 10, 20.0)) == 10
        rtsp_server.close(hard=True)  # SIGKILL server and publisher: refused connections now
        read_frames(src, 1000, 3.0)
        assert not src.stats().connected
        rtsp_server.start()
        rtsp_server.publish(rtsp_server.clip or Path())
        restarted_at = time.monotonic()
        again = read_frames(src, 10, 30.0, after=restarted_at)
        stats = src.stats()
    assert len(again) == 10, stats
    assert stats.reconnects >= 2
    reconnect_s = again[0].captured_monotonic_s - restarted_at
    log.info("server restart: frames again %.2f s after restart", reconnect_s)
    if callable(record_property):
        record_property("reconnect_after_server_restart_s", round(reconnect_s, 2))


@pytest.mark.rtsp
@pytest.mark.timeout(60)
def test_rtsp_unknown_path_retries_without_hanging(rtsp_server: RtspServer) -> None:
    src = LiveSource(rtsp_server.url("nothing-here"), config=RTSP_CFG.model_copy(update={"backoff_max_s": 0.3}))
    src.start()
    try:
        assert read_frames(src, 1, 3.0) == []
        stats = src.stats()
    finally:
        t = time.monotonic()
        src.close()
        close_s = time.monotonic() - t
    assert stats.reconnects >= 1
    assert not stats.connected
    assert stats.last_error is not None
    assert close_s < 3.5


# -- RTSP over TCP (GStreamer's RTSP server: interleaved TCP as well as UDP) ---------------------


@pytest.fixture(scope="session")
def gst_available() -> None:
    if (why := missing_gst_rtsp()) is not None:
        unavailable(why)


@pytest.fixture
def gst_server(tmp_path: Path, gst_available: None) -> Iterator[GstRtspServer]:
    srv = GstRtspServer(tmp_path)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.mark.rtsp
@pytest.mark.timeout(60)
@pytest.mark.parametrize("transport", ["tcp", "udp", "auto"])
def test_rtsp_transports(gst_server: GstRtspServer, transport: str) -> None:
    cfg = RTSP_CFG.model_copy(update={"rtsp_transport": transport})
    with LiveSource(gst_server.url(), config=cfg) as src:
        frames = read_frames(src, 25, 20.0)
        stats = src.stats()
    assert len(frames) == 25, stats
    assert all(f.image.shape == (240, 320, 3) for f in frames)
    assert stats.connected


@pytest.mark.rtsp
@pytest.mark.timeout(90)
def test_rtsp_tcp_server_killed_and_restarted(gst_server: GstRtspServer) -> None:
    cfg = RTSP_CFG.model_copy(update={"rtsp_transport": "tcp"})
    with LiveSource(gst_server.url(), config=cfg) as src:
        assert len(read_frames(src, 10, 20.0)) == 10
        gst_server.stop(hard=True)  # SIGKILL mid-stream: the TCP connection breaks
        read_frames(src, 1000, 3.0)
        assert not src.stats().connected
        gst_server.start()
        restarted_at = time.monotonic()
        again = read_frames(src, 10, 30.0, after=restarted_at)
        stats = src.stats()
    assert len(again) == 10, stats
    assert stats.reconnects >= 1
    log.info("tcp server restart: frames again %.2f s after restart", again[0].captured_monotonic_s - restarted_at)


# -- URLs that never answer -----------------------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize("scheme", ["rtsp", "http"])
@pytest.mark.parametrize("kind", ["silent", "closed"])
def test_url_that_never_answers(
    scheme: str, kind: str, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    with silent_tcp_server() as silent:
        port = silent if kind == "silent" else closed_port()
        src = LiveSource(f"{scheme}://user:secret@127.0.0.1:{port}/stream", config=DEAD_CFG)
        src.start()
        t = time.monotonic()
        assert src.read(2.0) is None
        waited = time.monotonic() - t
        time.sleep(0.5)
        stats = src.stats()
        t = time.monotonic()
        src.close()
        close_s = time.monotonic() - t
    assert 1.9 <= waited < 3.0
    assert stats.reconnects >= 2
    assert not stats.connected
    assert not stats.exhausted
    assert stats.frames_read == 0
    assert stats.last_error is not None
    assert "secret" not in stats.last_error
    native = capfd.readouterr()  # OpenCV's and FFmpeg's own messages (file descriptors 1 and 2)
    assert "secret" not in native.out + native.err + caplog.text
    assert close_s < 1.5
    log.info("%s %s: %d attempts in 2.5 s, close %.3f s", scheme, kind, stats.reconnects + 1, close_s)


@pytest.mark.timeout(30)
def test_give_up_after(caplog: pytest.LogCaptureFixture) -> None:
    cfg = DEAD_CFG.model_copy(update={"give_up_after_s": 0.5})
    with LiveSource(f"rtsp://admin:pw123@127.0.0.1:{closed_port()}/x", config=cfg) as src:
        deadline = time.monotonic() + 10
        while not src.stats().exhausted and time.monotonic() < deadline:
            time.sleep(0.05)
        stats = src.stats()
        t = time.monotonic()
        assert src.read(5.0) is None
        assert time.monotonic() - t < 0.1
    assert stats.exhausted
    assert stats.last_error is not None
    assert "gave up" in stats.last_error
    assert "pw123" not in caplog.text
    assert "***@127.0.0.1" in caplog.text


@pytest.mark.timeout(30)
def test_missing_webcam_does_not_hang() -> None:
    src = LiveSource(97, config=DEAD_CFG)
    src.start()
    assert src.read(1.0) is None
    stats = src.stats()
    t = time.monotonic()
    src.close()
    assert time.monotonic() - t < 1.5
    assert stats.reconnects >= 1
    assert not stats.connected


@pytest.mark.timeout(30)
def test_reader_survives_exceptions(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = 0

    def broken(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        raise RuntimeError("boom at rtsp://u:topsecret@10.0.0.1/s")

    monkeypatch.setattr(cv2, "VideoCapture", broken)
    with LiveSource("rtsp://u:topsecret@10.0.0.1/s", config=DEAD_CFG) as src:
        assert src.read(1.0) is None
        stats = src.stats()
        assert src._thread is not None
        assert src._thread.is_alive()
    assert calls >= 3
    assert stats.last_error is not None
    assert "RuntimeError" in stats.last_error
    assert "topsecret" not in stats.last_error


# -- HTTP MJPEG ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mjpeg_frames(yaoming_bgr: npt.NDArray[np.uint8]) -> list[npt.NDArray[np.uint8]]:
    return moving_face_frames(yaoming_bgr, n=256)


@pytest.mark.timeout(60)
def test_mjpeg_reads_and_skips_a_corrupt_frame(mjpeg_frames: list[npt.NDArray[np.uint8]]) -> None:
    with MjpegServer(lambda i: mjpeg_frames[i % 256], fps=50, corrupt=frozenset({12})) as server:
        cfg = SourceConfig(open_timeout_s=3, read_timeout_s=2, buffer_frames=100)
        with LiveSource(server.url(), config=cfg) as src:
            frames = read_frames(src, 30, 20.0)
            stats = src.stats()
    nums = [frame_number(f.image) for f in frames]
    assert nums == [*range(12), *range(13, 31)]
    assert stats.frames_skipped >= 1
    assert stats.reconnects == 0
    assert server.connections == 1


@pytest.mark.timeout(60)
def test_https_mjpeg_verifies_certificates(mjpeg_frames: list[npt.NDArray[np.uint8]], tmp_path: Path) -> None:
    tls = self_signed_tls(tmp_path)
    if tls is None:
        unavailable("openssl CLI not installed")
    ctx, cert = tls
    base = SourceConfig(open_timeout_s=3, read_timeout_s=2, buffer_frames=100, backoff_initial_s=0.1)
    with MjpegServer(lambda i: mjpeg_frames[i % 256], fps=50, tls=ctx) as server:
        assert server.url().startswith("https://")
        # Verified against the camera's own certificate: frames.
        with LiveSource(server.url(), config=base.model_copy(update={"tls_ca_file": str(cert)})) as src:
            assert len(read_frames(src, 10, 15.0)) == 10
        # Verification on, certificate unknown: refused (no frame), with a hint in the error.
        with LiveSource(server.url(), config=base) as src:
            assert read_frames(src, 1, 2.0) == []
            stats = src.stats()
        assert stats.last_error is not None
        assert "TLS certificate" in stats.last_error
        assert stats.reconnects >= 1
        # Verification off (explicitly): frames.
        with LiveSource(server.url(), config=base.model_copy(update={"tls_verify": False})) as src:
            assert len(read_frames(src, 10, 15.0)) == 10


@pytest.mark.timeout(60)
def test_mjpeg_stream_end_reconnects(mjpeg_frames: list[npt.NDArray[np.uint8]]) -> None:
    with MjpegServer(lambda i: mjpeg_frames[i % 256], fps=50, frames_per_connection=15) as server:
        cfg = SourceConfig(open_timeout_s=3, read_timeout_s=2, buffer_frames=100, backoff_initial_s=0.1)
        with LiveSource(server.url(), config=cfg) as src:
            frames = read_frames(src, 25, 20.0)
            stats = src.stats()
    nums = [frame_number(f.image) for f in frames]
    assert len(nums) == 25
    assert nums[:15] == list(range(15))
    assert nums[15:] == list(range(10))  # the second connection starts again at frame 0
    assert stats.reconnects >= 1
    assert server.connections >= 2


@pytest.mark.timeout(60)
def test_slow_consumer_drops_oldest(mjpeg_frames: list[npt.NDArray[np.uint8]]) -> None:
    with MjpegServer(lambda i: mjpeg_frames[i % 256], fps=100) as server:
        cfg = SourceConfig(open_timeout_s=3, read_timeout_s=2, buffer_frames=3)
        with LiveSource(server.url(), config=cfg) as src:
            assert read_frames(src, 1, 10.0)
            got: list[Frame] = []
            ages: list[float] = []
            for _ in range(8):
                time.sleep(0.15)  # a consumer slower than the camera
                f = src.read(1.0)
                assert f is not None
                ages.append(time.monotonic() - f.captured_monotonic_s)
                got.append(f)
            stats = src.stats()
    assert stats.frames_dropped > 0
    steps = [b.index - a.index for a, b in itertools.pairwise(got)]
    assert min(steps) > 1  # frames in between were dropped
    # Only recent frames: the oldest of 3 buffered frames at 100 fps (plus scheduling slack).
    assert float(np.median(ages)) < 0.2  # a queue without drops would be ~1 s behind
    log.info("slow consumer: dropped %d, steps %s, ages %s", stats.frames_dropped, steps, [round(a, 3) for a in ages])


def test_drop_oldest_buffer_counts() -> None:
    src = LiveSource("rtsp://127.0.0.1:1/x", config=SourceConfig(buffer_frames=2))
    image = np.zeros((4, 4, 3), np.uint8)
    for _ in range(5):
        src._push(image)
    assert src.stats().frames_dropped == 3
    a, b = src.read(0), src.read(0)
    assert a is not None
    assert b is not None
    assert (a.index, b.index) == (3, 4)
    assert src.read(0) is None
    assert src.stats().frames_read == 2


def test_backoff_doubles_caps_and_jitters() -> None:
    cfg = SourceConfig(backoff_initial_s=0.5, backoff_max_s=4.0, backoff_jitter=0.2)
    delays = list(itertools.islice(backoff_delays(cfg, random.Random(7)), 8))
    nominal = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0]
    for d, n in zip(delays, nominal, strict=True):
        assert 0.8 * n <= d <= 1.2 * n
    assert len(set(delays)) == len(delays)  # jittered


def test_capture_options() -> None:
    assert "rtsp_transport;udp" in capture_options("rtsp://h/s", SourceConfig(rtsp_transport="udp"))
    assert "rtsp_transport;tcp" in capture_options("RTSPS://h/s", SourceConfig())
    auto = capture_options("rtsp://h/s", SourceConfig(rtsp_transport="auto"))
    assert "rtsp_transport" not in auto
    assert auto  # never empty for RTSP: an unset variable makes OpenCV force tcp
    assert "rtsp_transport" not in capture_options("http://h/v.mjpg", SourceConfig())
    assert "tls_verify" not in capture_options("http://h/v.mjpg", SourceConfig())
    assert "tls_verify;1" in capture_options("https://h/v.mjpg", SourceConfig())
    assert "tls_verify;0" in capture_options("rtsps://h/s", SourceConfig(tls_verify=False))
    assert "ca_file;/etc/cam.pem" in capture_options("rtsps://h/s", SourceConfig(tls_ca_file="/etc/cam.pem"))
    with pytest.raises(ValueError, match="tls_ca_file"):
        SourceConfig(tls_ca_file="/a;b")


@pytest.mark.rtsp
@pytest.mark.timeout(60)
def test_two_cameras_with_different_transports(rtsp_server: RtspServer, gst_server: GstRtspServer) -> None:
    udp = LiveSource(rtsp_server.url(), camera_id="cam-1", config=RTSP_CFG)
    tcp = LiveSource(gst_server.url(), camera_id="cam-2", config=RTSP_CFG.model_copy(update={"rtsp_transport": "tcp"}))
    with udp, tcp:
        a = read_frames(udp, 10, 20.0)
        b = read_frames(tcp, 10, 20.0)
    assert len(a) == 10
    assert len(b) == 10
    assert {f.camera_id for f in a} == {"cam-1"}
    assert {f.camera_id for f in b} == {"cam-2"}


def test_capture_env_serialises_only_different_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CAPTURE_OPTIONS_ENV, "")  # restored afterwards
    env = _CaptureOptionsEnv()
    inside: list[str] = []
    lock = threading.Lock()
    overlaps: list[tuple[str, str]] = []

    def use(options: str) -> None:
        with env.use(options):
            with lock:
                overlaps.extend((options, other) for other in inside)
                inside.append(options)
            assert os.environ[CAPTURE_OPTIONS_ENV] == options
            time.sleep(0.05)
            with lock:
                inside.remove(options)

    threads = [threading.Thread(target=use, args=(o,)) for o in ["a;1", "a;1", "b;2", "a;1", "b;2"]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert all(x == y for x, y in overlaps)  # only equal options ever open at the same time
    assert overlaps  # and those do overlap
