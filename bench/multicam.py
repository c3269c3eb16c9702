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
  100 % = one core; frames/CPU-s: frames processed per CPU second (steadier than fps on a
  loaded machine); RSS/cam: the process's resident memory divided by N.

Levers (``--levers``, comma-separated): ``batch`` (one detector batch across cameras),
``adaptive`` (detection cadence per camera adapted to load), ``lazy`` (no quality crop for
faces the rate limit will not embed), ``threads1`` (one FFmpeg decoder thread per camera).
``--workers 2`` (default) adds a third variant from 2 cameras on: the levers with the cameras
in 2 worker processes (``overt run --workers 2``); CPU and RSS then include the workers.
Prints a Markdown table; ``--json`` also writes the rows.

    python bench/multicam.py                       # cameras 1 2 4 8, 10 s each, 1 repetition
    python bench/multicam.py --cameras 1 2 4 --seconds 6 --levers batch,lazy --workers 1
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
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
from overt.pipeline.workers import ProcessPipeline
from overt.samples import sample_image
from overt.sources import LiveSource
from overt.vision.align import align_face
from overt.vision.embedders.base import embed_with_norms
from overt.vision.engine import FaceEngine
from overt.vision.imageio import read_image
from overt.vision.quality import measure_quality
from overt.watchlist import enrol_folder

FPS = 25.0
LEVERS = ("batch", "adaptive", "lazy", "threads1")


@dataclass
class Row:
    cameras: int
    variant: str
    fps_per_camera: float
    drop_pct: float
    discarded_pct: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    alerted: int
    cpu_ms_per_camera_s: float
    cpu_ms_per_camera_s_at_25fps: float
    embeds_per_camera_s: float
    rss_mb_per_camera: float


def cpu_s(pids: Sequence[int] = ()) -> float:
    """CPU seconds of this process and of the worker processes ``pids`` (still running)."""
    t = os.times()
    total = t.user + t.system
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def rss_mb(pids: Sequence[int] = ()) -> float:
    total = 0.0
    for pid in ["self", *map(str, pids)]:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024.0
    return total


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


@dataclass(frozen=True)
class Variant:
    pipeline: PipelineConfig
    source: SourceConfig
    workers: int = 1
    threads: int | None = None
    """ONNX Runtime / OpenCV threads per worker process; None: cores / workers (the default)."""


TODAY = {"batch_detection": False, "adaptive_detection": False, "lazy_quality": False}
"""The pipeline before the levers (the baseline stays this when the defaults change)."""


def configs(levers: set[str], workers: int, names: Sequence[str]) -> dict[str, Variant]:
    src = dict(rtsp_transport="udp", open_timeout_s=5.0, read_timeout_s=3.0, backoff_initial_s=0.2)
    base = Variant(PipelineConfig(**TODAY), SourceConfig(**src, decoder_threads=0))
    new = Variant(
        PipelineConfig(
            batch_detection="batch" in levers, adaptive_detection="adaptive" in levers, lazy_quality="lazy" in levers
        ),
        SourceConfig(**src, decoder_threads=1 if "threads1" in levers else 0),
    )
    known = {
        "baseline": base,
        "levers": new,
        f"levers, {workers} workers": Variant(new.pipeline, new.source, workers),
        f"levers, {workers} workers, ORT threads per core": Variant(new.pipeline, new.source, workers, threads=0),
    }
    short = {"baseline": "baseline", "levers": "levers", "workers": f"levers, {workers} workers"}
    short["workers-ort-default"] = f"levers, {workers} workers, ORT threads per core"
    return {short[n]: known[short[n]] for n in names}


@dataclass
class Sample:
    fps: float
    drop_pct: float
    discarded_pct: float
    latencies_ms: list[float]
    alerted: int
    cpu_ms_per_cam_s: float
    cpu_ms_per_frame: float
    embeds_per_cam_s: float
    rss_mb: float


def run_once(
    urls: list[str],
    engine: FaceEngine,
    gallery: Gallery,
    variant: Variant,
    *,
    seconds: float,
    warmup_s: float,
) -> Sample:
    n = len(urls)
    sink = MemorySink()
    cfg, src_cfg = variant.pipeline, variant.source
    pipe: Pipeline | ProcessPipeline
    if variant.workers > 1 and n > 1:
        pipe = ProcessPipeline(
            urls, gallery, [sink], workers=variant.workers, config=cfg, source_config=src_cfg, threads=variant.threads
        )
    else:
        sources = [LiveSource(u, camera_id=f"cam-{i + 1}", config=src_cfg) for i, u in enumerate(urls)]
        pipe = Pipeline(sources, engine, gallery, [sink], config=cfg)
    pipe.start()
    try:
        deadline = time.monotonic() + 60.0  # worker processes load their models first
        while time.monotonic() < deadline and pipe.counters().frames < 2 * n:
            time.sleep(0.1)
        time.sleep(warmup_s)
        pids = list(pipe.pids.values()) if isinstance(pipe, ProcessPipeline) else []
        c0, k0, t0, a0 = pipe.counters(), cpu_s(pids), time.monotonic(), len(sink.alerts)
        time.sleep(seconds)
        c1, k1, t1 = pipe.counters(), cpu_s(pids), time.monotonic()
        rss = rss_mb(pids)
        alerts = list(sink.alerts)[a0:]
    finally:
        pipe.close()
    dt = t1 - t0
    sent = FPS * dt * n
    processed = c1.frames - c0.frames
    cpu = k1 - k0
    return Sample(
        fps=processed / dt / n,
        drop_pct=max(0.0, 100.0 * (1.0 - processed / sent)),
        discarded_pct=100.0 * (c1.frames_dropped - c0.frames_dropped) / sent,
        latencies_ms=[a.latency_ms for a in alerts],
        alerted=len({a.camera_id for a in alerts}),
        cpu_ms_per_cam_s=1000.0 * cpu / dt / n,
        cpu_ms_per_frame=1000.0 * cpu / max(1, processed),
        embeds_per_cam_s=(c1.probes_embedded - c0.probes_embedded) / dt / n,
        rss_mb=rss,
    )


def profile(clip: Path, engine: FaceEngine, frames: int = 40) -> str:
    """CPU time per stage (process CPU seconds: steadier than wall time on a loaded machine) and
    the cores one camera of this clip needs at 25 fps with the default cadence."""
    cap = cv2.VideoCapture(str(clip))
    images = []
    k0 = cpu_s()
    for _ in range(frames):
        ok, img = cap.read()
        if not ok:
            break
        images.append(np.ascontiguousarray(img, np.uint8))
    cap.release()
    decode = (cpu_s() - k0) / len(images)
    det = engine.detector
    k0 = cpu_s()
    found = [det.detect(img, score_threshold=0.3) for img in images]
    detect = (cpu_s() - k0) / len(images)
    batch_fn = getattr(det, "detect_batch", None)
    batched = float("nan")
    if batch_fn is not None:
        k0 = cpu_s()
        for i in range(0, len(images) - 3, 4):
            batch_fn(images[i : i + 4], score_threshold=0.3)
        batched = (cpu_s() - k0) / (len(images) // 4 * 4)
    faces = [(img, d, i) for img, d in zip(images, found, strict=True) for i in range(len(d))]
    k0 = cpu_s()
    for img, d, i in faces:
        measure_quality(d.xyxy[i], d.landmarks5[i], float(d.scores[i]), align_face(img, d.landmarks5[i], 112))
    quality = (cpu_s() - k0) / max(1, len(faces))
    emb = engine.embedder
    crops = [emb.align(img, d.xyxy[i], d.landmarks5[i]) for img, d, i in faces[:64]]
    k0 = cpu_s()
    for i in range(0, len(crops), 8):
        embed_with_norms(emb, crops[i : i + 8])
    embed = (cpu_s() - k0) / max(1, len(crops))
    per_frame = len(faces) / len(images)
    # Default cadence: detect every 2nd frame; the quality crop for each tracked face on those
    # frames; at most 5 embeddings per track per second (25 fps: 1 frame in 5).
    ms = 1000.0 * (decode + detect / 2 + per_frame / 2 * quality + per_frame / 5 * embed)
    lines = [
        f"Profile of {clip.name} ({images[0].shape[1]}x{images[0].shape[0]}, {per_frame:.1f} faces/frame), "
        "CPU ms (all threads of the process):",
        "",
        "| stage | CPU ms |",
        "|---|---|",
        f"| decode, per frame | {1000 * decode:.1f} |",
        f"| detect, per frame (one image per run) | {1000 * detect:.1f} |",
        f"| detect, per frame (batches of 4 cameras) | {1000 * batched:.1f} |",
        f"| quality crop + measure, per face | {1000 * quality:.2f} |",
        f"| align + embed, per face (batches of 8) | {1000 * embed:.1f} |",
        f"| **one camera at 25 fps, default cadence, per frame** | **{ms:.1f}** |",
        "",
        f"Sizing: {ms * 25 / 1000:.2f} cores per 1080p25 camera of this scene "
        f"(25 x {ms:.1f} ms); add ~15 % for tracking, decisions and thread hand-offs.",
    ]
    return "\n".join(lines)


def pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def table(rows: list[Row]) -> str:
    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:.0f}"

    out = [
        "| cameras | pipeline | fps/cam | drop % | discarded % | alert p50 ms | alert p95 ms | alerted "
        "| CPU ms per cam-s | CPU ms per cam-s at 25 fps | embeds/cam-s | RSS MB/cam |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r.cameras} | {r.variant} | {r.fps_per_camera:.1f} | {r.drop_pct:.1f} | {r.discarded_pct:.1f} | "
            f"{ms(r.latency_p50_ms)} | {ms(r.latency_p95_ms)} | {r.alerted}/{r.cameras} | "
            f"{r.cpu_ms_per_camera_s:.0f} | {r.cpu_ms_per_camera_s_at_25fps:.0f} | {r.embeds_per_camera_s:.1f} | "
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
    ap.add_argument("--workers", type=int, default=2, help="worker processes of the 'workers' variants")
    ap.add_argument(
        "--variants",
        default="baseline,levers,workers",
        help="comma-separated of baseline, levers, workers (levers in --workers processes, cores/workers threads "
        "each), workers-ort-default (the same with ONNX Runtime's default threads per process)",
    )
    ap.add_argument("--size", default="1920x1080", help="clip size WxH")
    ap.add_argument("--clip-seconds", type=float, default=8.0)
    ap.add_argument("--json", type=Path, help="also write the rows here")
    ap.add_argument("--profile", action="store_true", help="only the CPU profile per stage (no RTSP)")
    args = ap.parse_args()
    levers = {x for x in args.levers.split(",") if x}
    if unknown := levers - set(LEVERS):
        ap.error(f"unknown levers {sorted(unknown)}")
    if (why := missing_rtsp_binaries()) is not None:
        sys.exit(why)
    width, height = (int(v) for v in args.size.split("x"))
    engine = build_engine()
    variants = configs(levers, args.workers, [v for v in args.variants.split(",") if v])
    with tempfile.TemporaryDirectory(prefix="overt-multicam-") as tmp:
        root = Path(tmp)
        clip = make_clip(root, engine, args.clip_seconds, width, height)
        if args.profile:
            print(profile(clip, engine))
            return
        gallery = make_gallery(root, engine)
        samples: dict[tuple[int, str], list[Sample]] = {}
        with RtspCameras(root, [clip] * max(args.cameras)) as cams:
            urls = cams.urls()
            for n in args.cameras:
                for rep in range(args.reps):
                    order = [v for v in variants if n > 1 or variants[v].workers == 1]
                    for name in order if rep % 2 == 0 else order[::-1]:
                        res = run_once(urls[:n], engine, gallery, variants[name], seconds=args.seconds,
                                       warmup_s=args.warmup)  # fmt: skip
                        samples.setdefault((n, name), []).append(res)
                        print(
                            f"# {n} camera(s), {name}: {res.fps:.1f} fps/cam, {res.drop_pct:.1f} % dropped, "
                            f"{res.cpu_ms_per_frame * FPS:.0f} CPU ms per cam-s at 25 fps",
                            flush=True,
                        )
    rows = []
    for (n, name), runs in samples.items():
        lat = [v for r in runs for v in r.latencies_ms]
        rows.append(
            Row(
                cameras=n,
                variant=name,
                fps_per_camera=float(np.mean([r.fps for r in runs])),
                drop_pct=float(np.mean([r.drop_pct for r in runs])),
                discarded_pct=float(np.mean([r.discarded_pct for r in runs])),
                latency_p50_ms=pct(lat, 50),
                latency_p95_ms=pct(lat, 95),
                alerted=min(r.alerted for r in runs),
                cpu_ms_per_camera_s=float(np.mean([r.cpu_ms_per_cam_s for r in runs])),
                cpu_ms_per_camera_s_at_25fps=float(np.mean([r.cpu_ms_per_frame for r in runs])) * FPS,
                embeds_per_camera_s=float(np.mean([r.embeds_per_cam_s for r in runs])),
                rss_mb_per_camera=max(r.rss_mb for r in runs) / n,
            )
        )
    print(f"\nlevers: {','.join(sorted(levers))}; {args.seconds:g} s measured per run, {args.reps} repetition(s)\n")
    print(table(rows))
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2))


if __name__ == "__main__":
    main()
