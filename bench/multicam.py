"""Multi-camera benchmark: N live 1080p25 cameras over a real RTSP server, today's pipeline vs
the multi-camera levers, alternating in the same process (issue 14).

One rtsp-server-perl carries ``max(--cameras)`` mounts, each fed by its own ffmpeg publisher
looping the same H.264 clip at its native rate (``-re -c copy``): a synthetic 1080p25 crowd
(five bystander faces from gdp.jpg, the enrolled face from yaoming.jpg visible part of each
loop). For each camera count the pipeline reads the first N mounts as live cameras for
``--seconds`` (after ``--warmup``), once as the baseline and once with the levers, the order
swapped every repetition. Reported per run:

- fps/cam: frames the worker processed per second per camera (the camera sends 25);
- drop %: frames a camera sent that the pipeline never processed (1 - processed / 25 fps);
- alert p50/p95: wall time from the first frame of the enrolled face's track to its alert;
- alerted: cameras on which the enrolled face alerted (recall check of the levers);
- CPU %/cam: this process's CPU time (decode + inference; not the publishers) per camera,
  100 % = one core; RSS/cam: the process's resident memory divided by N.

Levers (``--levers``, comma-separated): ``batch`` (one detector batch across cameras),
``adaptive`` (detection cadence per camera adapted to load), ``lazy`` (no quality crop for
faces the rate limit will not embed), ``threads1`` (one FFmpeg decoder thread per camera).
Prints a Markdown table; ``--json`` also writes the rows.

    python bench/multicam.py                       # cameras 1 2 4 8, 10 s each, 1 repetition
    python bench/multicam.py --cameras 1 2 4 --seconds 6 --levers batch,lazy
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.sources.servers import FFMPEG_BIN, RtspCameras, missing_rtsp_binaries

from overt.alerts import MemorySink
from overt.config import PipelineConfig, SourceConfig, build_engine
from overt.matching.gallery import Gallery
from overt.pipeline import Pipeline
from overt.pipeline.synthetic import SyntheticClip, face_patches
from overt.samples import sample_image
from overt.sources import LiveSource
from overt.vision.engine import FaceEngine
from overt.vision.imageio import read_image
from overt.watchlist import enrol_folder

FPS = 25.0
LEVERS = ("batch", "adaptive", "lazy", "threads1")


@dataclass
class Row:
    cameras: int
    variant: str
    fps_per_camera: float
    drop_pct: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    alerted: int
    cpu_pct_per_camera: float
    rss_mb_per_camera: float


def cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def make_clip(root: Path, engine: FaceEngine, seconds: float, width: int, height: int) -> Path:
    """The crowd clip as H.264 (keyframe every second), rendered to mp4v then transcoded."""
    gdp = read_image(sample_image("gdp"))
    yao = read_image(sample_image("yaoming"))
    bystanders = face_patches(gdp, engine.detect(gdp))[:5]
    target = face_patches(yao, engine.detect(yao))[0]
    clip = SyntheticClip(
        width, height, FPS, seconds, bystanders, target, bystander_face_px=90, target_face_px=(110, 150),
        target_from_s=1.0, target_until_s=seconds - 1.0,
    )  # fmt: skip
    raw = clip.write(root / "raw.mp4")
    out = root / "crowd.mp4"
    cmd = [FFMPEG_BIN, "-hide_banner", "-loglevel", "error", "-y", "-i", str(raw), "-c:v", "libx264",
           "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25", "-pix_fmt", "yuv420p", str(out)]  # fmt: skip
    subprocess.run(cmd, check=True, timeout=300)
    return out


def make_gallery(root: Path, engine: FaceEngine) -> Gallery:
    folder = root / "watchlist" / "subject-001"
    folder.mkdir(parents=True)
    yao = read_image(sample_image("yaoming"))
    cv2.imwrite(str(folder / "1.png"), cv2.flip(yao, 1))
    report = enrol_folder(root / "watchlist", engine)
    return report.watchlist.gallery()


def configs(levers: set[str]) -> dict[str, tuple[PipelineConfig, SourceConfig]]:
    src = dict(rtsp_transport="udp", open_timeout_s=5.0, read_timeout_s=3.0, backoff_initial_s=0.2)
    base = (PipelineConfig(), SourceConfig(**src))
    new = (
        PipelineConfig(
            batch_detection="batch" in levers, adaptive_detection="adaptive" in levers, lazy_quality="lazy" in levers
        ),
        SourceConfig(**src, decoder_threads=1 if "threads1" in levers else 0),
    )
    return {"baseline": base, "levers": new}


def run_once(
    urls: list[str],
    engine: FaceEngine,
    gallery: Gallery,
    cfg: PipelineConfig,
    src_cfg: SourceConfig,
    *,
    seconds: float,
    warmup_s: float,
) -> tuple[float, float, list[float], int, float, float]:
    """(fps per camera, drop %, alert latencies ms, cameras alerted, CPU % per camera, RSS MB)."""
    n = len(urls)
    sources = [LiveSource(u, camera_id=f"cam-{i + 1}", config=src_cfg) for i, u in enumerate(urls)]
    sink = MemorySink()
    pipe = Pipeline(sources, engine, gallery, [sink], config=cfg)
    pipe.start()
    try:
        deadline = time.monotonic() + 20.0
        while time.monotonic() < deadline and not all(s.stats().frames_read for s in sources):
            time.sleep(0.1)
        time.sleep(warmup_s)
        c0, k0, t0, a0 = pipe.counters(), cpu_s(), time.monotonic(), len(sink.alerts)
        time.sleep(seconds)
        c1, k1, t1 = pipe.counters(), cpu_s(), time.monotonic()
        rss = rss_mb()
        alerts = list(sink.alerts)[a0:]
    finally:
        pipe.close()
    dt = t1 - t0
    processed = c1.frames - c0.frames
    fps = processed / dt / n
    drop = max(0.0, 100.0 * (1.0 - processed / (FPS * dt * n)))
    cpu = 100.0 * (k1 - k0) / dt / n
    latencies = [a.latency_ms for a in alerts]
    alerted = len({a.camera_id for a in alerts})
    return fps, drop, latencies, alerted, cpu, rss


def pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def table(rows: list[Row]) -> str:
    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:.0f}"

    out = [
        "| cameras | pipeline | fps/cam | drop % | alert p50 ms | alert p95 ms | alerted | CPU %/cam | RSS MB/cam |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r.cameras} | {r.variant} | {r.fps_per_camera:.1f} | {r.drop_pct:.1f} | {ms(r.latency_p50_ms)} | "
            f"{ms(r.latency_p95_ms)} | {r.alerted}/{r.cameras} | {r.cpu_pct_per_camera:.0f} | "
            f"{r.rss_mb_per_camera:.0f} |"
        )
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cameras", nargs="+", type=int, default=[1, 2, 4, 8])
    ap.add_argument("--seconds", type=float, default=10.0, help="measured seconds per run")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds after the first frames before measuring")
    ap.add_argument("--reps", type=int, default=1, help="repetitions (baseline and levers alternate)")
    ap.add_argument("--levers", default="batch,adaptive,lazy,threads1", help=f"comma-separated of {LEVERS}")
    ap.add_argument("--size", default="1920x1080", help="clip size WxH")
    ap.add_argument("--clip-seconds", type=float, default=8.0)
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args()
    levers = {x for x in args.levers.split(",") if x}
    if unknown := levers - set(LEVERS):
        ap.error(f"unknown levers {sorted(unknown)}")
    if (why := missing_rtsp_binaries()) is not None:
        sys.exit(why)
    width, height = (int(v) for v in args.size.split("x"))
    engine = build_engine()
    variants = configs(levers)
    with tempfile.TemporaryDirectory(prefix="overt-multicam-") as tmp:
        root = Path(tmp)
        clip = make_clip(root, engine, args.clip_seconds, width, height)
        gallery = make_gallery(root, engine)
        samples: dict[tuple[int, str], list[tuple[float, float, list[float], int, float, float]]] = {}
        with RtspCameras(root, [clip] * max(args.cameras)) as cams:
            urls = cams.urls()
            for n in args.cameras:
                for rep in range(args.reps):
                    order = ["baseline", "levers"] if rep % 2 == 0 else ["levers", "baseline"]
                    for name in order:
                        cfg, src_cfg = variants[name]
                        res = run_once(
                            urls[:n], engine, gallery, cfg, src_cfg, seconds=args.seconds, warmup_s=args.warmup
                        )
                        samples.setdefault((n, name), []).append(res)
                        print(f"# {n} camera(s), {name}: {res[0]:.1f} fps/cam, {res[1]:.1f} % dropped", flush=True)
    rows = []
    for (n, name), runs in samples.items():
        lat = [v for r in runs for v in r[2]]
        rows.append(
            Row(
                cameras=n,
                variant=name,
                fps_per_camera=float(np.mean([r[0] for r in runs])),
                drop_pct=float(np.mean([r[1] for r in runs])),
                latency_p50_ms=pct(lat, 50),
                latency_p95_ms=pct(lat, 95),
                alerted=min(r[3] for r in runs),
                cpu_pct_per_camera=float(np.mean([r[4] for r in runs])),
                rss_mb_per_camera=max(r[5] for r in runs) / n,
            )
        )
    print(f"\nlevers: {','.join(sorted(levers))}; {args.seconds:g} s measured per run, {args.reps} repetition(s)\n")
    print(table(rows))
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2))


if __name__ == "__main__":
    main()
