"""Small faces in 1080p frames: detection recall by face size at detector inputs 640/960/1280 and tiled.

The dev-data annotated group photos (43 hand-labelled faces in 10 photos) are shrunk by 1.0, 0.6
and 0.35 and laid out on 1920x1080 mid-grey frames (a 1080p camera seeing people at three
distances), so every labelled face exists at three known sizes. For each detector setting: recall
(IoU >= 0.4 with a labelled box) by face size, detections matching no label, and ms per frame.
For the faces found at the default setting: the share the live quality gate and the recognisability
gate drop, by size.

    python bench/small_faces.py [--config TOML]
"""

from __future__ import annotations

import argparse
import os
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from overt.config import PipelineConfig, build_engine, load_config, probe_gate
from overt.domain.detections import FaceDetections
from overt.matching.decider import default_min_recognisability
from overt.tracking.tracker import iou_matrix
from overt.vision.detectors.base import Detector
from overt.vision.detectors.scrfd import ScrfdDetector
from overt.vision.detectors.tiled import TiledDetector
from overt.vision.detectors.yunet import YuNetDetector
from overt.vision.embedders.base import embed_with_norms
from overt.vision.models import ModelRegistry

Image = npt.NDArray[np.uint8]
BUCKETS = ((0, 16), (16, 24), (24, 32), (32, 48), (48, 80), (80, 10_000))
SCALES = (1.0, 0.6, 0.35)


def _labelled(root: Path) -> list[tuple[Image, npt.NDArray[np.float32]]]:
    out = []
    for name in ("training.xml", "testing.xml"):
        for im in ET.parse(root / name).getroot().iter("image"):
            boxes = []
            for b in im.iter("box"):
                x, y, w, h = (int(b.get(k, "0")) for k in ("left", "top", "width", "height"))
                boxes.append((x, y, x + w, y + h))
            img = cv2.imread(str(root / str(im.get("file"))))
            if img is not None and boxes:
                out.append((np.asarray(img, np.uint8), np.array(boxes, np.float32)))
    return out


def _frames(photos: list[tuple[Image, npt.NDArray[np.float32]]]) -> list[tuple[Image, npt.NDArray[np.float32]]]:
    """Pack every photo at every scale onto 1920x1080 frames (shelf packing, left to right)."""
    frames = []
    canvas = np.full((1080, 1920, 3), 127, np.uint8)
    boxes: list[npt.NDArray[np.float32]] = []
    x = y = shelf = 0
    for scale in SCALES:
        for img, b in photos:
            s = min(scale, 1000 / max(img.shape[:2]))  # the one large photo is shrunk to fit a frame
            small = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
            h, w = small.shape[:2]
            if x + w > 1920:
                x, y, shelf = 0, y + shelf, 0
            if y + h > 1080:
                frames.append((canvas, np.concatenate(boxes)))
                canvas = np.full((1080, 1920, 3), 127, np.uint8)
                boxes, x, y, shelf = [], 0, 0, 0
            canvas[y : y + h, x : x + w] = small
            boxes.append(b * s + np.array([x, y, x, y], np.float32))
            x += w
            shelf = max(shelf, h)
    if boxes:
        frames.append((canvas, np.concatenate(boxes)))
    return frames


def _bucket(side: float) -> int:
    return next(i for i, (lo, hi) in enumerate(BUCKETS) if lo <= side < hi)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dev-data", default=os.environ.get("OVERT_DEV_DATA", "/work/shared/dev-data"))
    ap.add_argument("--config", type=Path)
    args = ap.parse_args()
    cfg = load_config(args.config) if args.config else None
    engine = build_engine(cfg.engine if cfg else None)
    frames = _frames(_labelled(Path(args.dev_data) / "detection" / "annotated_group_photos"))
    reg = ModelRegistry()
    low = PipelineConfig().track_high_score
    yunet = engine.detector.model_id.startswith("yunet")

    def make(size: int) -> Detector:
        if yunet:
            return YuNetDetector(reg, input_size_px=size)
        return ScrfdDetector(reg, input_size_px=size)

    settings: list[tuple[str, Detector]] = [
        ("input 640 (default)", make(640)),
        ("input 960", make(960)),
        ("input 1280", make(1280)),
        ("input 640 + 2x2 tiles (detector_tiles = 2)", TiledDetector(make(640), grid=2)),
    ]
    sides = np.concatenate([np.minimum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) for _, b in frames])
    counts = np.bincount([_bucket(s) for s in sides], minlength=len(BUCKETS))
    n_frames = len(frames)
    print(f"{engine.detector.model_id}: {len(sides)} labelled faces on {n_frames} 1920x1080 frames\n")
    head = " | ".join(
        f"{lo}-{hi if hi < 10_000 else ''} px (n={c})" for (lo, hi), c in zip(BUCKETS, counts, strict=True)
    )
    print(f"| setting | {head} | all | unmatched detections | ms/frame |")
    print("|---|" + "---:|" * (len(BUCKETS) + 3))
    found_at_default: list[tuple[Image, npt.NDArray[np.float32], npt.NDArray[np.float32], float]] = []
    for name, det in settings:
        det.detect(frames[0][0])  # warm up
        hit = np.zeros(len(BUCKETS), int)
        extra = 0
        t = time.perf_counter()
        results = [det.detect(img, score_threshold=low) for img, _ in frames]
        ms = (time.perf_counter() - t) / n_frames * 1000
        for (img, boxes), d in zip(frames, results, strict=True):
            iou = iou_matrix(boxes, d.xyxy)
            used: set[int] = set()
            for i, b in enumerate(boxes):
                row = [iou[i, j] if j not in used else 0.0 for j in range(len(d))]
                if row and max(row) >= 0.4:
                    j = int(np.argmax(row))
                    used.add(j)
                    side = float(min(b[2] - b[0], b[3] - b[1]))
                    hit[_bucket(side)] += 1
                    if name.endswith("(default)"):
                        found_at_default.append((img, d.xyxy[j], d.landmarks5[j], float(d.scores[j])))
            extra += len(d) - len(used)
        rec = " | ".join("—" if c == 0 else f"{100 * h / c:.0f} %" for h, c in zip(hit, counts, strict=True))
        print(f"| {name} | {rec} | {100 * hit.sum() / counts.sum():.0f} % | {extra} | {ms:.0f} |")

    pq = PipelineConfig().probe_quality
    gate = probe_gate(pq)
    min_norm = default_min_recognisability(engine.embedder.model_id)
    print(f"\nfaces found at the default setting: dropped by the live gates (recognisability >= {min_norm})\n")
    print("| face size | found | quality gate drops | of those passing, recognisability gate drops |")
    print("|---|---:|---:|---:|")
    by: dict[int, list[tuple[bool, float]]] = {}
    for img, box, lms, score in found_at_default:
        face = engine.faces(img, _one(box, lms, score), embed=False)[0]
        passed = gate.check(face.quality).ok
        norm = float("nan")
        if passed:
            crop = engine.embedder.align(img, box, lms)
            norm = float(embed_with_norms(engine.embedder, [crop])[1][0])
        by.setdefault(_bucket(float(min(box[2] - box[0], box[3] - box[1]))), []).append((passed, norm))
    for i, (lo, hi) in enumerate(BUCKETS):
        rows = by.get(i, [])
        if not rows:
            continue
        kept = [n for ok, n in rows if ok]
        q_drop = 1 - len(kept) / len(rows)
        r_drop = (sum(1 for n in kept if min_norm is not None and n < min_norm) / len(kept)) if kept else float("nan")
        label = f"{lo}-{hi if hi < 10_000 else ''} px"
        print(f"| {label} | {len(rows)} | {100 * q_drop:.0f} % | {'—' if not kept else f'{100 * r_drop:.0f} %'} |")


def _one(box: npt.NDArray[np.float32], lms: npt.NDArray[np.float32], score: float) -> FaceDetections:
    return FaceDetections(xyxy=box[None, :], scores=np.array([score], np.float32), landmarks5=lms[None, :, :])


if __name__ == "__main__":
    main()
