"""End-to-end pipeline benchmark: fps, alert latency and memory vs a naive baseline, same run.

Clips (720p and 1080p, 1/5/20 faces) are made from the sample photos (yaoming.jpg and the
faces of players.jpg); every face in the clip is enrolled (from the photo it was cut from),
so each face yields one alert and the latency distribution has one sample per face.

- ``detNNN, every frame``: the live pipeline with the detector letterboxing to NNN px.
- ``every 2nd frame``: detection on every other frame, tracks coast in between (the default).
- ``naive``: detect + align + embed + search every face of every frame (no tracking, no gating).

Throughput runs read the file as fast as possible; latency runs pace it at its frame rate
(``realtime``) and measure wall time from the capture of the first frame in which a face is
visible to its alert. CPU time per frame is reported too: on a shared machine it is steadier
than wall-clock fps. Writes a Markdown section into BENCHMARKS.md (``--write``).

    python bench/pipeline.py [--seconds 3] [--faces 1 5 20] [--write]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from overt.alerts import MemorySink
from overt.config import EngineConfig, PipelineConfig, ScrfdDetectorConfig, build_engine
from overt.matching import Gallery, build_gallery
from overt.pipeline import Pipeline
from overt.pipeline.synthetic import SyntheticClip, face_patches
from overt.samples import sample_image
from overt.sources import open_source
from overt.vision.engine import FaceEngine

SECTION_START = "<!-- pipeline-bench:start -->"
SECTION_END = "<!-- pipeline-bench:end -->"


@dataclass
class Result:
    clip: str
    mode: str
    fps: float
    cpu_ms_per_frame: float
    faces_seen: int
    probes_embedded: int
    alerts: int
    subjects: int
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    decision_p50_ms: float | None = None
    decision_p95_ms: float | None = None


def cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def make_engine(threads: int, det_size: int) -> FaceEngine:
    return build_engine(EngineConfig(threads=threads, detector=ScrfdDetectorConfig(input_size_px=det_size)))


def run_pipeline(
    engine: FaceEngine, gallery: Gallery, clip: Path, cfg: PipelineConfig, *, realtime: bool
) -> tuple[float, float, MemorySink, Pipeline]:
    sink = MemorySink()
    pipe = Pipeline([open_source(str(clip), camera_id="cam-1", realtime=realtime)], engine, gallery, [sink], config=cfg)
    c0, t0 = cpu_s(), time.perf_counter()
    counters = pipe.run()
    assert counters.frames > 0
    return time.perf_counter() - t0, cpu_s() - c0, sink, pipe


def run_naive(
    engine: FaceEngine, gallery: Gallery, clip: Path, min_similarity: float
) -> tuple[float, float, int, int, set[str]]:
    src = open_source(str(clip), camera_id="cam-1")
    src.start()
    frames = faces = 0
    matched: set[str] = set()
    c0, t0 = cpu_s(), time.perf_counter()
    try:
        while True:
            frame = src.read(2.0)
            if frame is None:
                if src.stats().exhausted:
                    break
                continue
            frames += 1
            found = engine.faces(frame.image, engine.detector.detect(frame.image), embed=True)
            faces += len(found)
            vecs = [f.template.vector for f in found if f.template is not None]
            if vecs:
                for cands in gallery.search(np.stack(vecs), k=1):
                    if cands and cands[0].similarity >= min_similarity:
                        matched.add(cands[0].subject)
    finally:
        src.close()
    return time.perf_counter() - t0, cpu_s() - c0, frames, faces, matched


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--faces", type=int, nargs="+", default=[1, 5, 20])
    ap.add_argument("--sizes", nargs="+", default=["720p", "1080p"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--write", action="store_true", help="Write the section of BENCHMARKS.md.")
    args = ap.parse_args()
    dims = {"720p": (1280, 720), "1080p": (1920, 1080)}
    engines = {size: make_engine(args.threads, size) for size in (640, 480, 320)}
    base = engines[640]
    yao = base.read(sample_image("yaoming"))
    team = base.read(sample_image("players"))
    patches = face_patches(yao, base.detect(yao)) + face_patches(team, base.detect(team))
    # Each patch is enrolled from its own cut-out (the clip shows it scaled and moving).
    enrol_faces = [base.faces(p, base.detect(p, expect_face=True)) for p in patches]
    keep = [i for i, fs in enumerate(enrol_faces) if fs and fs[0].template is not None]
    results: list[Result] = []
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            w, h = dims[size]
            for n in args.faces:
                idx = keep[:n]
                vecs = np.stack([max(enrol_faces[i], key=lambda f: f.quality.size_px).template.vector for i in idx])  # type: ignore[union-attr]
                subjects = [f"s{i:02d}" for i in range(len(idx))]
                gallery = build_gallery(subjects, vecs, model_id=base.embedder.model_id)
                face_px = int(h * (0.12 if n <= 5 else 0.07))
                clip = SyntheticClip(
                    w, h, 25.0, args.seconds, [patches[i] for i in idx], None, bystander_face_px=face_px, seed=n
                ).write(Path(tmp) / f"{size}-{n}.mp4")
                name = f"{size}, {len(idx)} face(s)"
                cfg = PipelineConfig()
                every1 = cfg.model_copy(update={"detect_every_n_frames": 1})
                every2 = cfg.model_copy(update={"detect_every_n_frames": 2})
                modes: list[tuple[str, FaceEngine, PipelineConfig]] = [
                    ("det640, every frame", base, every1),
                    ("det480, every frame", engines[480], every1),
                    ("det320, every frame", engines[320], every1),
                    ("det640, every 2nd frame (default)", base, every2),
                    ("det480, every 2nd frame", engines[480], every2),
                ]
                for mode, eng, c in modes:
                    wall, cpu, sink, pipe = run_pipeline(eng, gallery, clip, c, realtime=False)
                    cnt = pipe.counters()
                    _, _, lsink, _ = run_pipeline(eng, gallery, clip, c, realtime=True)
                    lat = np.array([a.latency_ms for a in lsink.alerts])
                    dec = np.array([1000 * (a.pts_s - a.first_seen_pts_s) + 40 for a in sink.alerts])
                    results.append(
                        Result(
                            name,
                            mode,
                            cnt.frames / wall,
                            1000 * cpu / max(cnt.frames, 1),
                            cnt.faces_seen,
                            cnt.probes_embedded,
                            len({a.subject for a in sink.alerts}),
                            len(idx),
                            float(np.percentile(lat, 50)) if lat.size else None,
                            float(np.percentile(lat, 95)) if lat.size else None,
                            float(np.percentile(dec, 50)) if dec.size else None,
                            float(np.percentile(dec, 95)) if dec.size else None,
                        )
                    )
                    print(results[-1], flush=True)
                wall, cpu, frames, faces, matched = run_naive(base, gallery, clip, modes[0][2].min_similarity or 0.4)
                results.append(
                    Result(
                        name,
                        "naive (det640 + embed all)",
                        frames / wall,
                        1000 * cpu / max(frames, 1),
                        faces,
                        faces,
                        len(matched),
                        len(idx),
                        None,
                        None,
                    )
                )
                print(results[-1], flush=True)
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    md = render(results, args, rss_before, rss_peak)
    print(md)
    if args.write:
        write_section(Path(__file__).resolve().parents[1] / "BENCHMARKS.md", md)


def render(results: list[Result], args: argparse.Namespace, rss_before: float, rss_peak: float) -> str:
    load = os.getloadavg()
    lines = [
        SECTION_START,
        "## Live pipeline (bench/pipeline.py)",
        "",
        f"Synthetic {args.seconds:g} s clips at 25 fps made from yaoming.jpg and players.jpg; every face is enrolled"
        " so each yields one alert. ONNX Runtime threads: "
        f"{args.threads}; {os.cpu_count()} CPUs visible; load average during the run {load[0]:.1f} / {load[1]:.1f}"
        " (wall-clock numbers mean something only when that is near or below the CPU count; CPU ms/frame is steadier).",
        "`fps`: end-to-end (decode + detect + track + gate + embed + match), file read as fast as possible."
        " `latency`: paced at 25 fps, capture of the first frame with the face to its alert."
        " `decision`: stream time from the first frame with the face to the frame that decided the alert, plus one"
        " frame interval (the evidence the decider needs; the floor of the latency on an unloaded machine)."
        " `ratio`: fps over the naive baseline of the same clip, same run.",
        "",
        "| clip | mode | fps | ratio | CPU ms/frame | faces seen | embedded | alerted | latency p50/p95 ms |"
        " decision p50/p95 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    naive = {r.clip: r.fps for r in results if r.mode.startswith("naive")}
    for r in results:
        lat = "-" if r.latency_p50_ms is None else f"{r.latency_p50_ms:.0f} / {r.latency_p95_ms:.0f}"
        dec = "-" if r.decision_p50_ms is None else f"{r.decision_p50_ms:.0f} / {r.decision_p95_ms:.0f}"
        lines.append(
            f"| {r.clip} | {r.mode} | {r.fps:.1f} | {r.fps / naive[r.clip]:.2f} | {r.cpu_ms_per_frame:.0f} | "
            f"{r.faces_seen} | {r.probes_embedded} | {r.alerts}/{r.subjects} | {lat} | {dec} |"
        )
    lines += [
        "",
        f"Peak resident memory of the whole benchmark process (three detector sessions, both clips): {rss_peak:.0f} MB"
        f" (after loading: {rss_before:.0f} MB).",
        SECTION_END,
    ]
    return "\n".join(lines)


def write_section(path: Path, md: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(SECTION_START) + r".*?" + re.escape(SECTION_END), re.DOTALL)
    text = pattern.sub(md, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + md + "\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
