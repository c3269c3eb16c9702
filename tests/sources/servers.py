"""Real servers for stream tests: rtsp-server-perl + an ffmpeg publisher, an MJPEG HTTP server,
and sockets that never answer. Every process and thread here is stopped with a timeout."""

from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

RTSP_SERVER_BIN = "rtsp-server-perl"
FFMPEG_BIN = "ffmpeg"


def missing_rtsp_binaries() -> str | None:
    """Why RTSP tests cannot run here, or ``None`` (see scripts/ci-services.sh)."""
    missing = [b for b in (RTSP_SERVER_BIN, FFMPEG_BIN) if shutil.which(b) is None]
    if missing:
        return f"{', '.join(missing)} not installed (apt-get install rtsp-server-perl ffmpeg; scripts/ci-services.sh)"
    return None


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_udp_base(count: int = 64) -> int:
    """An even UDP port with the next ``count`` ports free (RTP/RTCP pairs of the RTSP server)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            base = int(s.getsockname()[1]) & ~1
        if base + count > 65000:
            continue
        ok = True
        for port in range(base, base + count):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as t:
                try:
                    t.bind(("0.0.0.0", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free UDP port range")


def wait_for_port(port: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


def _stop_process(proc: subprocess.Popen[bytes] | None, timeout_s: float = 5.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout_s)


def make_h264_clip(frames: list[npt.NDArray[np.uint8]], path: Path, fps: float = 25.0) -> Path:
    """Encode ``frames`` to H.264 (keyframe every 10 frames, so a reader syncs fast) with ffmpeg."""
    h, w = frames[0].shape[:2]
    cmd = [
        FFMPEG_BIN,
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "bgr24",
        "-s",
        f"{w}x{h}",
        "-r",
        str(fps),
        "-i",
        "pipe:0",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-tune",
        "zerolatency",
        "-g",
        "10",
        "-pix_fmt",
        "yuv420p",
        str(path),
    ]
    subprocess.run(cmd, input=b"".join(f.tobytes() for f in frames), check=True, timeout=60)
    return path


class RtspServer:
    """Debian's rtsp-server-perl: publishers ANNOUNCE on ``source_port``, readers use ``client_port``.

    It speaks RTP over UDP only (no TCP interleaving): read it with ``rtsp_transport="udp"``.
    """

    def __init__(self, log_dir: Path) -> None:
        self.client_port = free_tcp_port()
        self.source_port = free_tcp_port()
        self.rtp_base = free_udp_base()
        self.log_dir = log_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.publisher: subprocess.Popen[bytes] | None = None
        self.clip: Path | None = None

    def url(self, path: str = "live") -> str:
        return f"rtsp://127.0.0.1:{self.client_port}/{path}"

    def start(self) -> None:
        log = (self.log_dir / "rtsp-server.log").open("ab")
        self.proc = subprocess.Popen(
            [
                RTSP_SERVER_BIN,
                "--clientport",
                str(self.client_port),
                "--serverport",
                str(self.source_port),
                "--rtp_start_port",
                str(self.rtp_base),
                "--client_listen_address",
                "127.0.0.1",
                "--source_listen_address",
                "127.0.0.1",
                "--loglevel",
                "2",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        if not (wait_for_port(self.client_port, 10) and wait_for_port(self.source_port, 10)):
            self.stop()
            raise RuntimeError("rtsp-server-perl did not start listening within 10 s")

    def stop(self, *, hard: bool = False) -> None:
        if hard and self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        _stop_process(self.proc)
        self.proc = None

    def publish(self, clip: Path, path: str = "live") -> None:
        """ffmpeg loops ``clip`` forever at native rate into the server (``-c copy``: little CPU)."""
        self.clip = clip
        log = (self.log_dir / "publisher.log").open("ab")
        self.publisher = subprocess.Popen(
            [
                FFMPEG_BIN,
                "-hide_banner",
                "-loglevel",
                "error",
                "-re",
                "-stream_loop",
                "-1",
                "-i",
                str(clip),
                "-c",
                "copy",
                "-f",
                "rtsp",
                f"rtsp://127.0.0.1:{self.source_port}/{path}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def describe_status(self, path: str = "live", timeout_s: float = 1.0) -> int | None:
        """The status code of an RTSP DESCRIBE of ``path`` (200 once a publisher has announced it)."""
        request = f"DESCRIBE {self.url(path)} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n".encode()
        try:
            with socket.create_connection(("127.0.0.1", self.client_port), timeout=timeout_s) as conn:
                conn.sendall(request)
                head = conn.recv(256).split(b"\r\n", 1)[0].split()
        except OSError:
            return None
        return int(head[1]) if len(head) > 1 and head[1].isdigit() else None

    def wait_published(self, path: str = "live", timeout_s: float = 10.0) -> bool:
        """Wait until the publisher is on the server (and still running half a second later).

        A reader that connects while ffmpeg is still announcing can leave this server without
        a stream for every later reader; tests start their readers after this.
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.publisher is None or self.publisher.poll() is not None:
                return False
            if self.describe_status(path) == 200:
                time.sleep(0.5)
                return self.publisher.poll() is None
            time.sleep(0.1)
        return False

    def kill_publisher(self, *, hard: bool = False) -> None:
        """SIGTERM (ffmpeg tears its session down) or, ``hard``, SIGKILL.

        rtsp-server-perl keeps the mount of a SIGKILLed publisher forever (a new ANNOUNCE gets
        403): after a hard kill, restart the server too.
        """
        if hard and self.publisher is not None and self.publisher.poll() is None:
            self.publisher.kill()
            self.publisher.wait(5)
        _stop_process(self.publisher)
        self.publisher = None

    def close(self, *, hard: bool = False) -> None:
        self.kill_publisher(hard=hard)
        self.stop(hard=hard)


@contextlib.contextmanager
def silent_tcp_server() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word (a hung camera)."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.1)
    stop = threading.Event()
    conns: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except (TimeoutError, OSError):
                continue
            conns.append(conn)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield int(srv.getsockname()[1])
    finally:
        stop.set()
        t.join(2)
        for c in conns:
            c.close()
        srv.close()


def closed_port() -> int:
    """A local TCP port nobody listens on (connection refused)."""
    return free_tcp_port()


class MjpegServer:
    """A multipart/x-mixed-replace MJPEG camera on 127.0.0.1 (one thread per client).

    ``frame_at(i)`` gives frame ``i``'s image; frames go out at ``fps``; ``corrupt`` holds frame
    numbers sent as broken JPEG data instead (only on the first connection).
    """

    def __init__(
        self,
        frame_at: Callable[[int], npt.NDArray[np.uint8]],
        *,
        fps: float = 25.0,
        corrupt: frozenset[int] = frozenset(),
        frames_per_connection: int | None = None,
        tls: ssl.SSLContext | None = None,
        port: int = 0,
    ) -> None:
        self.frame_at = frame_at
        self.fps = fps
        self.corrupt = corrupt
        self.frames_per_connection = frames_per_connection
        self.connections = 0
        self.stop_event = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                outer.connections += 1
                first = outer.connections == 1
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace;boundary=ovtframe")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                i = 0
                try:
                    while not outer.stop_event.is_set():
                        if outer.frames_per_connection is not None and i >= outer.frames_per_connection:
                            break
                        _, enc = cv2.imencode(".jpg", outer.frame_at(i))
                        data = bytes(enc)
                        if first and i in outer.corrupt:
                            data = data[:200] + b"\x00garbage" * 40  # a JPEG header, then noise
                        self.wfile.write(
                            b"--ovtframe\r\nContent-Type: image/jpeg\r\n"
                            + f"Content-Length: {len(data)}\r\n\r\n".encode()
                            + data
                            + b"\r\n"
                        )
                        self.wfile.flush()
                        i += 1
                        time.sleep(1.0 / outer.fps)
                except (BrokenPipeError, ConnectionResetError):
                    return

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.scheme = "http"
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/video.mjpg"

    def __enter__(self) -> MjpegServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


GST_PYTHON = os.environ.get("OVERT_GST_PYTHON", "/usr/bin/python3")
"""The system Python that has PyGObject (python3-gi); the project's venv does not."""

_GST_CHECK = (
    "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0'); "
    "from gi.repository import Gst, GstRtspServer; Gst.init(None); "
    "import sys; sys.exit(0 if Gst.ElementFactory.find('x264enc') else 3)"
)


def missing_gst_rtsp() -> str | None:
    """Why the GStreamer RTSP server cannot run here, or ``None``."""
    if not Path(GST_PYTHON).is_file():
        return f"{GST_PYTHON} not found (set OVERT_GST_PYTHON to a Python with python3-gi)"
    try:
        rc = subprocess.run([GST_PYTHON, "-c", _GST_CHECK], capture_output=True, timeout=30).returncode
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"GStreamer check failed: {exc}"
    if rc != 0:
        return (
            "GStreamer RTSP server not available (apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 "
            "gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly)"
        )
    return None


class GstRtspServer:
    """tests/sources/gst_rtsp_server.py in a subprocess: RTSP with RTP over UDP and TCP."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_tcp_port()
        self.log_dir = log_dir
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/live"

    def start(self) -> None:
        log = (self.log_dir / "gst-rtsp-server.log").open("ab")
        script = Path(__file__).with_name("gst_rtsp_server.py")
        self.proc = subprocess.Popen(
            [GST_PYTHON, str(script), str(self.port)], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        if not wait_for_port(self.port, 15):
            self.stop()
            raise RuntimeError("GStreamer RTSP server did not start listening within 15 s")

    def stop(self, *, hard: bool = False) -> None:
        if hard and self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        _stop_process(self.proc)
        self.proc = None


def self_signed_tls(directory: Path) -> tuple[ssl.SSLContext, Path] | None:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1 (openssl CLI)."""
    if shutil.which("openssl") is None:
        return None
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx, cert


class RtspCameras:
    """Several cameras on one rtsp-server-perl: ``clips[i]`` loops on mount ``cam<i+1>``.

    Each mount has its own ffmpeg publisher (``-re -c copy``: paced, little CPU). ``start``
    waits until every mount answers DESCRIBE, retrying on fresh ports (the Perl server can
    lose a stream announced while a reader connects).
    """

    def __init__(self, log_dir: Path, clips: list[Path]) -> None:
        self.log_dir = log_dir
        self.clips = clips
        self.server: RtspServer | None = None
        self.publishers: list[subprocess.Popen[bytes]] = []

    def urls(self) -> list[str]:
        assert self.server is not None
        return [self.server.url(f"cam{i + 1}") for i in range(len(self.clips))]

    def start(self, attempts: int = 3) -> bool:
        for _ in range(attempts):
            self.server = RtspServer(self.log_dir)
            self.server.start()
            ok = True
            for i, clip in enumerate(self.clips):
                self.server.publish(clip, f"cam{i + 1}")
                ok = self.server.wait_published(f"cam{i + 1}")
                if self.server.publisher is not None:
                    self.publishers.append(self.server.publisher)
                    self.server.publisher = None
                if not ok:
                    break
            if ok:
                return True
            self.close()
        return False

    def close(self) -> None:
        for proc in self.publishers:
            _stop_process(proc)
        self.publishers = []
        if self.server is not None:
            self.server.close()
            self.server = None

    def __enter__(self) -> RtspCameras:
        if not self.start():
            self.close()
            raise RuntimeError("could not publish every camera on rtsp-server-perl")
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
