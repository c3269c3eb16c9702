"""Stream integrity over real RTSP: ffmpeg-manipulated streams are flagged within their documented
time; the unmanipulated stream is not.

Each manipulation is an ffmpeg filter on a synthetic scene (tests/sources/integrity_clips.py),
published through rtsp-server-perl and read by ``LiveSource`` exactly as a camera would be; every
frame goes through ``IntegrityMonitor``. The detection time (from the arrival of the first
manipulated frame to the flag) is logged and recorded as a test property; the bound asserted is
the documented threshold plus a generous margin for a loaded machine (never a tight timing).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from overt.config import IntegrityConfig
from overt.domain.frames import Frame
from overt.sources import LiveSource
from overt.sources.integrity import IntegrityMonitor
from tests.sources.integrity_clips import (
    FPS,
    base_clip,
    frozen_clip,
    looped_clip,
    spliced_clip,
    stripe_number,
)
from tests.sources.servers import RtspServer, free_tcp_port, free_udp_base, missing_rtsp_binaries
from tests.sources.test_live import RTSP_CFG, unavailable

log = logging.getLogger(__name__)

CFG = IntegrityConfig()
MARGIN_S = 4.0  # reconnect-free slack for a loaded 2-core machine


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if (why := missing_rtsp_binaries()) is not None:
        unavailable(why)
    return tmp_path_factory.mktemp("integrity")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RtspServer]:
    srv = RtspServer(tmp_path)
    srv.start()
    try:
        yield srv
    finally:
        srv.close()


def publish(server: RtspServer, clip: Path, attempts: int = 3, *, restart: bool = True) -> None:
    """Publish ``clip``. On this shared machine an ANNOUNCE is sometimes refused (403: another
    test's server took a port between its choice and our bind, or a dead publisher holds the
    mount): with ``restart`` the server is restarted on fresh ports before trying again."""
    for _ in range(attempts):
        server.publish(clip)
        if server.wait_published():
            return
        server.kill_publisher()
        if restart:
            server.stop()
            server.client_port, server.source_port = free_tcp_port(), free_tcp_port()
            server.rtp_base = free_udp_base()
            server.start()
        time.sleep(0.5)
    log_text = (server.log_dir / "publisher.log").read_text(errors="replace")[-500:]
    pytest.fail(f"the ffmpeg publisher did not get on rtsp-server-perl ({attempts} attempts): {log_text}")


def watch(
    server: RtspServer,
    flag: str,
    manipulated: Callable[[Frame, list[Frame]], bool],
    timeout_s: float,
) -> tuple[float | None, IntegrityMonitor, bool]:
    """Read the stream into a monitor until ``flag`` is raised or ``timeout_s``.

    Returns (seconds from the first manipulated frame to the flag, the monitor, whether the
    flag was raised before any manipulated frame arrived).
    """
    monitor = IntegrityMonitor("cam-1", CFG, live=True)
    seen: list[Frame] = []
    started: float | None = None
    early = False
    reconnects = 0
    with LiveSource(server.url(), config=RTSP_CFG) as src:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            f = src.read(0.2)
            if f is None:
                continue
            if src.stats().reconnects != reconnects:
                reconnects = src.stats().reconnects
                monitor.stream_restarted()
            monitor.observe_frame(f)
            if started is None and manipulated(f, seen):
                started = f.captured_monotonic_s
            seen.append(f)
            if flag in monitor.status().active:
                if started is None:
                    early = True
                    return None, monitor, early
                return f.captured_monotonic_s - started, monitor, early
            if len(seen) > 50:
                del seen[:25]
    return None, monitor, early


def _numbers(frames: list[Frame]) -> list[int]:
    return [stripe_number(f.image) for f in frames]


@pytest.mark.rtsp
@pytest.mark.timeout(120)
def test_frozen_stream_is_flagged(server: RtspServer, clips: Path, record_property: Callable[..., None]) -> None:
    at = 6 * FPS
    publish(server, frozen_clip(clips, base_clip(clips), at))

    def frozen_started(f: Frame, seen: list[Frame]) -> bool:  # the still's second appearance
        return stripe_number(f.image) == at and at in _numbers(seen[-3:])

    took, monitor, early = watch(server, "frozen", frozen_started, 40)
    log.info("frozen flagged after %s s", took)
    record_property("frozen_detect_s", took)
    assert not early, monitor.status()
    assert took is not None, monitor.status()
    assert took <= CFG.frozen_after_s + MARGIN_S
    assert monitor.status().active == ("frozen",) or "loop" not in monitor.status().active


@pytest.mark.rtsp
@pytest.mark.timeout(120)
def test_replayed_segment_is_flagged(server: RtspServer, clips: Path, record_property: Callable[..., None]) -> None:
    start, size = 5 * FPS, 4 * FPS  # frames 5-9 s play twice
    publish(server, looped_clip(clips, base_clip(clips), start, size))

    def replay_started(f: Frame, seen: list[Frame]) -> bool:  # the stripe number goes back
        return bool(seen) and stripe_number(f.image) + 10 < max(_numbers(seen[-5:]))

    took, monitor, early = watch(server, "loop", replay_started, 40)
    log.info("loop flagged after %s s", took)
    record_property("loop_detect_s", took)
    assert not early, monitor.status()
    assert took is not None, monitor.status()
    assert took <= CFG.loop_window_s + MARGIN_S


@pytest.mark.rtsp
@pytest.mark.timeout(120)
def test_spliced_clip_is_flagged_as_moved(
    server: RtspServer, clips: Path, record_property: Callable[..., None]
) -> None:
    other = base_clip(clips, seconds=14, seed=7, first=512)
    publish(server, spliced_clip(clips, base_clip(clips), other, at_s=6.0))

    def splice_started(f: Frame, seen: list[Frame]) -> bool:
        return stripe_number(f.image) >= 512

    took, monitor, early = watch(server, "moved", splice_started, 40)
    log.info("splice flagged (moved) after %s s", took)
    record_property("splice_detect_s", took)
    assert not early, monitor.status()
    assert took is not None, monitor.status()
    assert took <= CFG.moved_after_s + 2.0 + MARGIN_S  # + the 1 s smoothing of the view


@pytest.mark.rtsp
@pytest.mark.timeout(120)
def test_resolution_change_is_flagged(server: RtspServer, clips: Path, record_property: Callable[..., None]) -> None:
    publish(server, base_clip(clips))
    monitor = IntegrityMonitor("cam-1", CFG, live=True)
    swapped_at: float | None = None
    took: float | None = None
    reconnects = 0
    with LiveSource(server.url(), config=RTSP_CFG) as src:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and took is None:
            f = src.read(0.2)
            if f is None:
                continue
            if src.stats().reconnects != reconnects:
                reconnects = src.stats().reconnects
                monitor.stream_restarted()
            monitor.observe_frame(f)
            if swapped_at is None and monitor.frames >= 3 * FPS:
                assert not monitor.status().suspect, monitor.status()
                server.kill_publisher()  # the feed is swapped for one of another size
                publish(server, base_clip(clips, seconds=8, seed=3, size_px=(480, 360)), restart=False)
                swapped_at = time.monotonic()
            if swapped_at is not None and f.width_px == 480 and "stream_change" in monitor.status().active:
                took = f.captured_monotonic_s - swapped_at
    log.info("stream_change flagged %s s after the publisher swap", took)
    record_property("stream_change_detect_s", took)
    assert took is not None, monitor.status()
    counters = monitor.status().to_json()["counters"]
    assert isinstance(counters, dict)
    assert counters["stream_change"] == 1


@pytest.mark.rtsp
@pytest.mark.timeout(120)
def test_unmanipulated_stream_raises_no_flag(server: RtspServer, clips: Path) -> None:
    publish(server, base_clip(clips))
    _took, monitor, _ = watch(server, "never", lambda f, seen: False, 12)
    status = monitor.status()
    assert status.frames > 8 * FPS, status
    assert not status.suspect, status
