"""Tracks that stay one person: ID switches with and without shot cuts and identity splits.

Detections and templates are computed once per frame (the default engine, or ``--config``);
the tracker is then replayed with the pipeline's rules under three settings: the old tracker
alone, + ending tracks at shot cuts, + splitting a track whose new probe matches none of its
last 3 probes (probes embedded at most 5 times per second, as the pipeline does, and only when
the face passes the live quality gate).

Sequences:
- OTB "Girl" (500 frames, ground-truth head box per frame): an ID switch is a change of the
  track id that covers the ground-truth box (IoU >= 0.3) between consecutive covered frames;
- four talking heads spliced (hard cuts; 50 frames each, 640x360): merges are tracks that span
  two clips (two people), fragments are extra tracks within one clip;
- the same four heads pasted at one place on one background (no cut; only the identity split
  can tell them apart).

    python bench/track_identity.py [--config TOML]
"""

from __future__ import annotations

import argparse
import os
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from overt.config import PipelineConfig, build_engine, load_config, probe_gate
from overt.domain.detections import FaceDetections
from overt.tracking.shots import ShotCutDetector
from overt.tracking.tracker import IouTracker, iou_matrix
from overt.vision.engine import FaceEngine

Image = npt.NDArray[np.uint8]
FPS = 25.0
HEADS = ("d0", "d9", "d10", "d14")
PER_CLIP = 50
SIZE = (640, 360)


@dataclass
class Seq:
    name: str
    frames: list[Image]
    labels: list[int]  # who is in view (clip index), or -1
    gt: list[npt.NDArray[np.float32] | None]  # ground-truth box (Girl) or None


def _clip(path: Path) -> list[Image]:
    cap = cv2.VideoCapture(str(path))
    out: list[Image] = []
    while len(out) < PER_CLIP:
        ok, img = cap.read()
        if not ok:
            break
        out.append(np.asarray(cv2.resize(img, SIZE, interpolation=cv2.INTER_AREA), np.uint8))
    cap.release()
    return out


def _pasted(engine: FaceEngine, frames: list[Image]) -> list[Image]:
    out = []
    box = (0.0, 0.0, 1.0)
    for img in frames:
        dets = engine.detect(img)
        if len(dets):
            x1, y1, x2, y2 = dets.xyxy[0]
            side = max(x2 - x1, y2 - y1) * 1.6
            box = ((x1 + x2) / 2 - side / 2, (y1 + y2) / 2 - side / 2, side)
        bx, by, side = box
        m = np.array([[220 / side, 0, -bx * 220 / side], [0, 220 / side, -by * 220 / side]], np.float32)
        canvas = np.full((SIZE[1], SIZE[0], 3), 127, np.uint8)
        canvas[70:290, 210:430] = cv2.warpAffine(img, m, (220, 220), borderValue=(127, 127, 127))
        out.append(canvas)
    return out


def _replay(
    seq: Seq,
    dets: list[FaceDetections],
    temps: list[list[npt.NDArray[np.float32] | None]],
    *,
    cuts: bool,
    split: float | None,
) -> list[dict[int, npt.NDArray[np.float32]]]:
    """Per frame: track id -> box."""
    cfg = PipelineConfig()
    tracker = IouTracker(
        "c",
        high_score=cfg.track_high_score,
        low_score=cfg.track_low_score,
        match_iou=cfg.track_match_iou,
        max_missed_frames=cfg.track_max_missed_frames,
    )
    shot = ShotCutDetector() if cuts else None
    recent: dict[int, deque[npt.NDArray[np.float32]]] = {}
    last_embed: dict[int, int] = {}
    out = []
    every = round(FPS / cfg.max_embeddings_per_track_per_s)
    for i, img in enumerate(seq.frames):
        if shot is not None and shot.observe(img):
            tracker.end_all()
            recent.clear()
        upd = tracker.update(dets[i], frame_index=i, pts_s=i / FPS, captured_monotonic_s=i / FPS)
        boxes = {}
        for tf in upd.faces:
            v = temps[i][tf.detection_index]
            if split is not None and v is not None and i - last_embed.get(tf.track_id, -every) >= every:
                last_embed[tf.track_id] = i
                r = recent.get(tf.track_id)
                if r and float(np.max(np.stack(list(r)) @ v)) < split:
                    recent.pop(tf.track_id)
                    tf = tracker.split(tf, frame_index=i, pts_s=i / FPS, captured_monotonic_s=i / FPS)
                    last_embed[tf.track_id] = i
                recent.setdefault(tf.track_id, deque(maxlen=3)).append(v)
            boxes[tf.track_id] = tf.xyxy
        out.append(boxes)
    return out


def _score(seq: Seq, tracks: list[dict[int, npt.NDArray[np.float32]]]) -> dict[str, int]:
    if seq.gt[0] is not None or any(g is not None for g in seq.gt):
        switches = 0
        prev = None
        ids = set()
        covered = 0
        for boxes, g in zip(tracks, seq.gt, strict=True):
            if g is None or not boxes:
                continue
            tids = list(boxes)
            ious = iou_matrix(g[None, :], np.stack([boxes[t] for t in tids]))[0]
            k = int(np.argmax(ious))
            if ious[k] < 0.3:
                continue
            covered += 1
            tid = tids[k]
            ids.add(tid)
            if prev is not None and tid != prev:
                switches += 1
            prev = tid
        return {"frames covered": covered, "track ids": len(ids), "ID switches": switches}
    who: dict[int, set[int]] = {}
    for boxes, lab in zip(tracks, seq.labels, strict=True):
        for tid in boxes:
            who.setdefault(tid, set()).add(lab)
    merges = sum(1 for s in who.values() if len(s) > 1)
    per_clip: dict[int, set[int]] = {}
    for tid, labs in who.items():
        for lab in labs:
            per_clip.setdefault(lab, set()).add(tid)
    fragments = sum(len(t) - 1 for t in per_clip.values())
    return {"tracks": len(who), "tracks spanning 2+ people": merges, "extra tracks within a clip": fragments}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dev-data", default=os.environ.get("OVERT_DEV_DATA", "/work/shared/dev-data"))
    ap.add_argument("--config", type=Path)
    args = ap.parse_args()
    root = Path(args.dev_data) / "videos"
    engine = build_engine(load_config(args.config).engine if args.config else None)
    pq = PipelineConfig().probe_quality
    gate = probe_gate(pq)
    girl_dir = root / "otb_girl_frames"
    gt_rows = (girl_dir / "groundtruth_rect.txt").read_text().splitlines()
    girl = [np.asarray(cv2.imread(str(p)), np.uint8) for p in sorted((girl_dir / "img").glob("*.jpg"))]
    gts: list[npt.NDArray[np.float32] | None] = []
    for row in gt_rows:
        if not row.strip():
            continue
        x, y, w, h = (float(v) for v in row.replace(",", " ").split())
        gts.append(np.array([x, y, x + w, y + h], np.float32) if w > 0 and h > 0 else None)
    clips = [_clip(root / "talking_heads" / f"{h}.mp4") for h in HEADS]
    labels = [k for k, c in enumerate(clips) for _ in c]
    seqs = [
        Seq("OTB Girl (500 frames, 128x96)", girl, [0] * len(girl), gts[: len(girl)]),
        Seq("4 talking heads spliced (hard cuts)", [f for c in clips for f in c], labels, [None] * len(labels)),
        Seq(
            "4 talking heads pasted at one place (no cut)",
            [f for c in clips for f in _pasted(engine, c)],
            labels,
            [None] * len(labels),
        ),
    ]
    split_th = engine.min_similarity
    print(f"engine: {engine.detector.model_id} + {engine.embedder.model_id}; split below {split_th:.3f}\n")
    print("| sequence | setting | result |")
    print("|---|---|---|")
    for seq in seqs:
        dets = [engine.detector.detect(f, score_threshold=PipelineConfig().track_low_score) for f in seq.frames]
        temps: list[list[npt.NDArray[np.float32] | None]] = []
        for f, d in zip(seq.frames, dets, strict=True):
            faces = engine.faces(f, d, embed=True)
            temps.append(
                [x.template.vector if x.template is not None and gate.check(x.quality).ok else None for x in faces]
            )
        for name, cuts, split in (
            ("tracker alone (before)", False, None),
            ("+ end at shot cuts", True, None),
            ("+ shot cuts + identity split (default)", True, split_th),
        ):
            res = _score(seq, _replay(seq, dets, temps, cuts=cuts, split=split))
            print(f"| {seq.name} | {name} | " + ", ".join(f"{k} {v}" for k, v in res.items()) + " |")


if __name__ == "__main__":
    main()
