"""Multi-camera benchmark: N live 1080p25 cameras over a real RTSP server, the pipeline before
the multi-camera levers vs the defaults, alternating in the same process (issue 14).

One rtsp-server-perl carries ``max(--cameras)`` mounts, each fed by its own ffmpeg publisher
looping the same H.264 clip at its native rate (``-re -c copy``: no re-encoding): a synthetic
1080p25 crowd (five bystander faces from gdp.jpg, the enrolled face from yaoming.jpg visible part
of each loop). For each camera count the pipeline reads the first N mounts as live cameras for
``--seconds`` (after ``--warmup``), once per variant, the order swapped every repetition:

- ``baseline``: the pipeline before the levers (fixed cadence, eager quality crop, OpenCV's
  decoder threads), one process;
- ``levers``: the levers of ``--levers`` (default: today's defaults), one process;
- ``workers``: the same in ``--workers`` processes with cores / workers ONNX Runtime and OpenCV
  threads each (``overt run --workers 2``), from 2 cameras on;
- ``workers-ort-default``: the same with ONNX Runtime's default threads (one per core) per process.

Reported per run: fps/cam (frames the pipeline processed per second per camera; the camera sends
25); drop % (frames sent but never processed: 1 - processed / 25 fps); discarded % (of those,
frames the readers received and threw away by drop-oldest; the rest never arrived: late UDP,
decoder; approximate: the counters are sampled, workers' every 0.25 s); alert p50/p95 (first
frame of the enrolled face's track to its alert); alerted (cameras on which it alerted: the
recall check); CPU ms per cam-s (process CPU, workers included, per camera per wall second); CPU
ms per cam-s at 25 fps (CPU per processed frame x 25: what a camera costs in real time, steadier
on a loaded machine); embeds/cam-s; RSS per camera.
One-process runs also print CPU by stage (camera readers = decode, pipeline readers = integrity
checks, inference worker, other = ONNX Runtime pools).

``--profile`` (no RTSP): CPU ms per stage, main's way and this way in the same run, and the whole
pipeline per camera-second with the clip replayed as a file (every frame processed: no
contention-dependent drops), for the sizing rule. Prints Markdown; ``--json`` writes the rows.

    python bench/multicam.py                       # quiet machine: cameras 1 2 4 8, 10 s each (~4 min)
    python bench/multicam.py --profile             # CPU per stage (~30 s)
    python bench/multicam.py --cameras 4 --variants workers,workers-ort-default
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
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.sources.servers import FFMPEG_BIN, RtspCameras, missing_rtsp_binaries

from overt.alerts import MemorySink
from overt.config import EngineConfig, PipelineConfig, SourceConfig, build_engine
from overt.domain.frames import Frame
from overt.matching.gallery import Gallery
from overt.pipeline import Pipeline
from overt.pipeline.synthetic import SyntheticClip, face_patches
from overt.pipeline.workers import ProcessPipeline
from overt.samples import sample_image
from overt.sources import LiveSource
from overt.sources.file import FileSource
from overt.sources.integrity import IntegrityMonitor
from overt.tracking import shots
from overt.vision.align import align_face
from overt.vision.detectors.scrfd import ScrfdDetector
from overt.vision.embedders.base import Embedder, embed_with_norms
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


STAGES = (("decode", "overt-live-"), ("integrity", "overt-reader-"), ("worker", "overt-worker"))


def thread_cpu_s() -> dict[str, float]:
    """CPU seconds of this process's threads by stage (thread name): camera readers (decode and
    colour conversion), pipeline readers (integrity checks), the inference worker (detection,
    tracking, quality, embedding with ONNX Runtime on the calling thread), and the rest (ONNX
    Runtime's pool threads, the main thread). Exited threads are lost: sample while running."""
    import threading

    tick = os.sysconf("SC_CLK_TCK")
    by_name = {t.native_id: t.name for t in threading.enumerate()}
    out = {name: 0.0 for name, _ in STAGES} | {"other": 0.0}
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError, ValueError):
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / tick
            name = by_name.get(int(task.name), "")
            stage = next((s for s, prefix in STAGES if name.startswith(prefix)), "other")
            out[stage] += cpu
    return out


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
    stage_ms_per_cam_s: dict[str, float]


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
        s0 = thread_cpu_s()
        time.sleep(seconds)
        c1, k1, t1 = pipe.counters(), cpu_s(pids), time.monotonic()
        s1 = thread_cpu_s()
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
        stage_ms_per_cam_s={} if pids else {k: 1000.0 * (s1[k] - s0[k]) / dt / n for k in s1},
    )


def _cpu_ms(fn: Callable[[int], object], n: int) -> float:
    """CPU ms (all threads of the process) per call of ``fn(i)``, i in range(n)."""
    k0 = cpu_s()
    for i in range(n):
        fn(i)
    return 1000.0 * (cpu_s() - k0) / n


class _SquareScrfd(ScrfdDetector):
    """SCRFD letterboxed into the full square, as on main before the rectangular input."""

    def canvas_hw(self, height: int, width: int) -> tuple[int, int, float]:
        _, _, scale = super().canvas_hw(height, width)
        return self.input_size_px, self.input_size_px, scale


def _area_thumbnail(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    return np.asarray(cv2.resize(image, shots.THUMB_WH, interpolation=cv2.INTER_AREA), np.uint8)


def replay(clip: Path, gallery: Gallery, cfg: PipelineConfig, *, threads: int, as_on_main: bool) -> tuple[float, float]:
    """(CPU ms per camera-second at 25 fps, embeddings per camera-second): the clip through the
    pipeline as a file (every frame processed, so no contention-dependent drops), one process.
    ``as_on_main``: the square detector input and full-frame area thumbnail of main."""
    engine = build_engine(EngineConfig(threads=threads))
    if as_on_main:
        engine = FaceEngine(_SquareScrfd(threads=threads), engine.embedder)
    thumb = shots._thumbnail
    if as_on_main:
        shots._thumbnail = _area_thumbnail
    try:
        engine.detect(np.zeros((64, 64, 3), np.uint8))
        src = FileSource(str(clip), camera_id="cam-1")
        pipe = Pipeline([src], engine, gallery, [MemorySink()], config=cfg)
        k0 = cpu_s()
        counters = pipe.run()
        cpu = cpu_s() - k0
    finally:
        shots._thumbnail = thumb
    seconds = counters.frames / FPS
    return 1000.0 * cpu / seconds, counters.probes_embedded / seconds


def profile(clip: Path, engine: FaceEngine, gallery: Gallery, frames: int = 40, decode_frames: int = 150) -> str:
    """CPU time per stage, main's way and this branch's way in the same run (process CPU
    seconds: steadier than wall time on a loaded machine), and the whole pipeline per
    camera-second replayed from the file."""
    images: list[npt.NDArray[np.uint8]] = []
    decode: dict[str, float] = {}
    for name, params, mode in (
        ("decode + BGR, OpenCV default threads (main)", [], "read"),
        ("decode + BGR, 1 decoder thread", [cv2.CAP_PROP_N_THREADS, 1], "read"),
        ("decode only (grab, no BGR conversion), 1 thread", [cv2.CAP_PROP_N_THREADS, 1], "grab"),
    ):
        cap = cv2.VideoCapture(str(clip), cv2.CAP_FFMPEG, params)
        for _ in range(5):  # warm: decoder threads started, first keyframe decoded
            cap.read()
        got: list[npt.NDArray[np.uint8]] = []

        def step(_: int, cap: cv2.VideoCapture = cap, mode: str = mode, got: list[npt.NDArray[np.uint8]] = got) -> None:
            if mode == "grab":
                cap.grab()
                return
            img = cap.read()[1]
            if len(got) < frames:  # keep a few for the later stages (150 1080p frames are 0.9 GB)
                got.append(np.asarray(img, np.uint8))

        decode[name] = _cpu_ms(step, decode_frames)
        cap.release()
        if got:
            images = [np.ascontiguousarray(img, np.uint8) for img in got]
    n = len(images)
    dets = {}
    for name, det in (
        ("detect 640x640 square, ORT threads per core (main)", _SquareScrfd()),
        ("detect 640x384, ORT threads per core", ScrfdDetector()),
        ("detect 640x384, 1 ORT thread", ScrfdDetector(threads=1)),
        ("detect 480x288, 1 ORT thread (far field: see recall)", ScrfdDetector(input_size_px=480, threads=1)),
    ):
        det.detect(images[0])

        def run_det(i: int, det: ScrfdDetector = det) -> object:
            return det.detect(images[i], score_threshold=0.3)

        dets[name] = _cpu_ms(run_det, n)
    batcher = ScrfdDetector(threads=1)

    def run_batch(i: int) -> object:
        return batcher.detect_batch(images[4 * i : 4 * i + 4], score_threshold=0.3)

    dets["detect 640x384 in batches of 4 cameras, 1 ORT thread"] = _cpu_ms(run_batch, n // 4) / 4
    found = [engine.detector.detect(img, score_threshold=0.3) for img in images]
    faces = [(img, d, i) for img, d in zip(images, found, strict=True) for i in range(len(d))]
    cuts = shots.ShotCutDetector()
    monitor = IntegrityMonitor("cam-1", PipelineConfig().integrity, live=True)
    frame_costs = {
        "shot-cut thumbnail, area from the full frame (main)": _cpu_ms(lambda i: _area_thumbnail(images[i]), n),
        "shot-cut thumbnail, bilinear then area": _cpu_ms(lambda i: shots._thumbnail(images[i]), n),
        "shot-cut check, whole": _cpu_ms(lambda i: cuts.observe(images[i]), n),
        "integrity checks": _cpu_ms(
            lambda i: monitor.observe_frame(
                Frame(camera_id="cam-1", index=i, pts_s=i / FPS, captured_monotonic_s=i / FPS, image=images[i])
            ),
            n,
        ),
    }
    face_costs = {
        "quality crop + measure": _cpu_ms(
            lambda j: measure_quality(
                faces[j][1].xyxy[faces[j][2]],
                faces[j][1].landmarks5[faces[j][2]],
                float(faces[j][1].scores[faces[j][2]]),
                align_face(faces[j][0], faces[j][1].landmarks5[faces[j][2]], 112),
            ),
            len(faces),
        )
    }
    for threads in (0, 1):
        emb = build_engine(EngineConfig(threads=threads)).embedder
        crops = [emb.align(img, d.xyxy[i], d.landmarks5[i]) for img, d, i in faces[:64]]
        embed_with_norms(emb, crops[:2])
        label = "ORT threads per core (main)" if threads == 0 else "1 ORT thread"

        def run_emb(j: int, emb: Embedder = emb, crops: list[npt.NDArray[np.uint8]] = crops) -> object:
            return embed_with_norms(emb, crops[8 * j : 8 * j + 8])

        face_costs[f"align + embed, batches of 8, {label}"] = _cpu_ms(run_emb, len(crops) // 8) / 8
    lines = [
        f"Profile of {clip.name} ({images[0].shape[1]}x{images[0].shape[0]}, {len(faces) / n:.1f} faces/frame), "
        "CPU ms (all threads of the process), main's way and this branch's in the same run:",
        "",
        "| stage | CPU ms |",
        "|---|---|",
    ]
    lines += [f"| {k}, per frame | {v:.1f} |" for k, v in decode.items()]
    lines += [f"| {k}, per frame | {v:.1f} |" for k, v in dets.items()]
    lines += [f"| {k}, per frame | {v:.2f} |" for k, v in frame_costs.items()]
    lines += [f"| {k}, per face | {v:.2f} |" for k, v in face_costs.items()]
    today = PipelineConfig(**TODAY)
    runs = [("main: square input, area thumbnail, ORT threads per core, detect every 2nd frame", today, 0, True)]
    for k in (2, 3, 4, 6):
        cfg = PipelineConfig(detect_every_n_frames=k, lazy_quality=True)
        runs.append((f"this branch, 1 ORT thread, lazy quality, detect every {k}", cfg, 1, False))
    lines += [
        "",
        "Whole pipeline, the clip replayed as a file in one process (every frame processed), decode"
        " with OpenCV's default threads:",
        "",
        "| pipeline | CPU ms per camera-second | embeddings per camera-second |",
        "|---|---|---|",
    ]
    for name, cfg, threads, main_way in runs:
        ms, emb_s = replay(clip, gallery, cfg, threads=threads, as_on_main=main_way)
        lines.append(f"| {name} | {ms:.0f} | {emb_s:.1f} |")
        print(lines[-1], flush=True)
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
    ap.add_argument("--levers", default="adaptive,lazy,threads1", help=f"comma-separated of {LEVERS}")
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
        gallery = make_gallery(root, engine)
        if args.profile:
            print(profile(clip, engine, gallery))
            return
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
                            f"{res.cpu_ms_per_frame * FPS:.0f} CPU ms per cam-s at 25 fps; CPU ms per cam-s: "
                            + ", ".join(f"{k} {v:.0f}" for k, v in res.stage_ms_per_cam_s.items()),
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
