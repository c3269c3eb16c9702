"""Benchmark of overt.sources: file decode rate, live reader CPU, reconnect time.

Run: ``.venv/bin/python bench/sources.py [--seconds 10] [--json OUT.json]`` (needs ffmpeg; the
RTSP part also needs rtsp-server-perl, see scripts/ci-services.sh). Every number is measured in
the same run as its baseline:

- file: frames/s of ``FileSource`` reading every frame of a 720p and a 1080p H.264 clip, against
  a bare ``cv2.VideoCapture.read`` loop on the same file (the ratio shows the threading cost);
- live: CPU used by one ``LiveSource`` reader thread on a 720p/25 fps RTSP (UDP) stream, as a
  share of one core (process CPU time / wall time while the consumer only reads);
- reconnect: seconds from restarting a stopped publisher (SIGTERM) and from restarting a killed
  server (SIGKILL) to the first new frame, median of ``--repeats``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.sources.conftest import moving_face_frames
from tests.sources.servers import RtspServer, make_h264_clip, missing_rtsp_binaries

from overt.config import SourceConfig
from overt.samples import sample_image
from overt.sources import FileSource, LiveSource
from overt.vision.imageio import read_image


def clip(size_px: tuple[int, int], n: int, out: Path) -> Path:
    face = read_image(sample_image("players"))
    frames: list[npt.NDArray[np.uint8]] = moving_face_frames(face, n=n, size_px=size_px)
    return make_h264_clip(frames, out)


def bare_fps(path: Path) -> tuple[float, int]:
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    n = 0
    t = time.perf_counter()
    while True:
        ok, _ = cap.read()
        if not ok:
            break
        n += 1
    dt = time.perf_counter() - t
    cap.release()
    return n / dt, n


def source_fps(path: Path) -> tuple[float, int]:
    src = FileSource(path)
    t = time.perf_counter()
    src.start()
    n = 0
    while src.read(5.0) is not None:
        n += 1
    dt = time.perf_counter() - t
    src.close()
    return n / dt, n


def first_frame_after(src: LiveSource, t0: float, timeout_s: float) -> float | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        f = src.read(0.1)
        if f is not None and f.captured_monotonic_s > t0:
            return f.captured_monotonic_s - t0
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="live CPU measurement window")
    ap.add_argument("--repeats", type=int, default=3, help="reconnects measured per kind")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args()
    if (why := missing_rtsp_binaries()) is not None:
        raise SystemExit(why)
    results: dict[str, object] = {"cpu_count": __import__("os").cpu_count(), "opencv": cv2.__version__}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for name, size in (("720p", (1280, 720)), ("1080p", (1920, 1080))):
            path = clip(size, 300, d / f"{name}.mp4")
            # Alternate the two, best of 3 each: the first decode of a file pays warm-up costs.
            base = ours = 0.0
            n = m = 0
            for _ in range(3):
                b, n = bare_fps(path)
                o, m = source_fps(path)
                base, ours = max(base, b), max(ours, o)
            results[f"file_{name}"] = {"frames": m, "bare_fps": round(base, 1), "filesource_fps": round(ours, 1)}
            print(
                f"file {name}: {m} frames, FileSource {ours:.0f} fps vs bare cv2 loop {base:.0f} fps "
                f"(ratio {ours / base:.2f})"
            )
            assert n == m

        live_clip = clip((1280, 720), 100, d / "live720.mp4")
        srv = RtspServer(d)
        srv.start()
        try:
            srv.publish(live_clip)
            cfg = SourceConfig(rtsp_transport="udp", read_timeout_s=1.5, backoff_initial_s=0.2, backoff_max_s=1.0)
            with LiveSource(srv.url(), config=cfg) as src:
                if first_frame_after(src, 0.0, 20.0) is None:
                    raise SystemExit("no frame from the RTSP server")
                c0, w0, s0 = time.process_time(), time.monotonic(), src.stats()
                frames = 0
                while time.monotonic() - w0 < args.seconds:
                    if src.read(0.5) is not None:
                        frames += 1
                cpu = (time.process_time() - c0) / (time.monotonic() - w0)
                s1 = src.stats()
                results["live_720p_udp"] = {
                    "fps": round(frames / args.seconds, 1),
                    "reader_cpu_core_share": round(cpu, 3),
                    "dropped": s1.frames_dropped - s0.frames_dropped,
                }
                print(
                    f"live 720p RTSP/UDP: {frames / args.seconds:.1f} fps delivered, reader CPU {100 * cpu:.0f}% "
                    f"of one core, dropped {s1.frames_dropped - s0.frames_dropped}"
                )

                pub: list[float] = []
                for _ in range(args.repeats):
                    srv.kill_publisher()
                    while src.stats().connected:
                        src.read(0.1)
                    time.sleep(1.0)
                    srv.publish(live_clip)
                    t0 = time.monotonic()
                    dt = first_frame_after(src, t0, 30.0)
                    if dt is not None:
                        pub.append(dt)
                serv: list[float] = []
                for _ in range(args.repeats):
                    srv.close(hard=True)
                    time.sleep(1.0)
                    srv.start()
                    srv.publish(live_clip)
                    t0 = time.monotonic()
                    dt = first_frame_after(src, t0, 30.0)
                    if dt is not None:
                        serv.append(dt)
                results["reconnect_publisher_restart_s"] = [round(x, 2) for x in pub]
                results["reconnect_server_restart_s"] = [round(x, 2) for x in serv]
                for label, xs in (("publisher restart", pub), ("server restart", serv)):
                    med = f"{statistics.median(xs):.2f} s" if xs else "n/a"
                    print(
                        f"reconnect after {label}: median {med} of {[round(x, 2) for x in xs]} "
                        f"(backoff 0.2..1.0 s, read timeout 1.5 s)"
                    )
        finally:
            srv.close()
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
