"""Measure probe similarities on the dev-data talking-head clips to set the decider's defaults.

Enrols the first good frame of each clip (its first second), then embeds faces of the later
frames (every ``--step`` frames) and records, per probe, the similarity to its own clip's
subject (genuine) and the best similarity to any other clip's subject (impostor). Prints the
distributions and, for candidate thresholds, the genuine probe acceptance and impostor rate;
also counts detections on the no-face clips. Needs ../shared/dev-data (or $OVERT_DEV_DATA).

    python bench/calibrate_decider.py [--step 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from overt.config import build_engine, load_config
from overt.domain.quality import QualityGate
from overt.errors import InputError


def dev_data() -> Path:
    for c in (os.environ.get("OVERT_DEV_DATA"), Path(__file__).resolve().parents[1].parent / "shared" / "dev-data"):
        if c and (Path(c) / "README.md").is_file():
            return Path(c)
    p = Path("/work/shared/dev-data")
    if (p / "README.md").is_file():
        return p
    raise SystemExit("dev-data not found: set OVERT_DEV_DATA")


def frames(path: Path) -> list[npt.NDArray[np.uint8]]:
    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        out.append(np.asarray(img, np.uint8))
    cap.release()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--step", type=int, default=5)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--config", type=Path, help="TOML config choosing the engine (default: built-in)")
    args = ap.parse_args()
    root = dev_data() / "videos"
    engine = build_engine(load_config(args.config).engine if args.config else None)
    gate = QualityGate()
    clips = sorted((root / "talking_heads").glob("d*.mp4"))
    enrolled: dict[str, np.ndarray] = {}
    probes: dict[str, list[np.ndarray]] = {}
    for clip in clips:
        imgs = frames(clip)
        fps = cv2.VideoCapture(str(clip)).get(cv2.CAP_PROP_FPS) or 25.0
        for i in range(min(len(imgs), int(fps))):
            try:
                face = engine.one_face(imgs[i], pick="largest", gate=QualityGate.for_enrolment())
            except InputError:
                continue
            assert face.template is not None
            enrolled[clip.stem] = face.template.vector
            break
        vecs = []
        for img in imgs[int(fps) :: args.step]:
            for f in engine.faces(img, engine.detector.detect(img), embed=True):
                if f.template is not None and gate.check(f.quality).ok:
                    vecs.append(f.template.vector)
        probes[clip.stem] = vecs
        print(f"{clip.name}: {len(imgs)} frames, enrolled={clip.stem in enrolled}, probes={len(vecs)}")
    names = sorted(enrolled)
    gallery = np.stack([enrolled[n] for n in names])
    genuine: list[float] = []
    impostor: list[float] = []
    top1_wrong = 0
    per_clip: dict[str, dict[str, float]] = {}
    for stem, vecs in probes.items():
        if not vecs or stem not in enrolled:
            continue
        sims = np.stack(vecs) @ gallery.T
        own = names.index(stem)
        g = sims[:, own]
        other = np.delete(sims, own, axis=1).max(axis=1)
        genuine.extend(g.tolist())
        impostor.extend(other.tolist())
        top1_wrong += int(np.sum(np.argmax(sims, axis=1) != own))
        per_clip[stem] = {
            "genuine_min": round(float(g.min()), 3),
            "genuine_p05": round(float(np.percentile(g, 5)), 3),
            "genuine_median": round(float(np.median(g)), 3),
            "impostor_max": round(float(other.max()), 3),
        }
    gen, imp = np.array(genuine), np.array(impostor)
    report: dict[str, object] = {
        "clips": len(clips),
        "probes": len(gen),
        "genuine_percentiles": {p: round(float(np.percentile(gen, p)), 3) for p in (1, 5, 10, 50)},
        "impostor_percentiles": {p: round(float(np.percentile(imp, p)), 3) for p in (50, 90, 99, 100)},
        "top1_wrong": top1_wrong,
        "per_clip": per_clip,
        "thresholds": {
            f"{t:.2f}": {
                "genuine_accept": round(float(np.mean(gen >= t)), 4),
                "impostor_accept": round(float(np.mean(imp >= t)), 5),
            }
            for t in (0.25, 0.30, 0.35, 0.40, 0.45, 0.50)
        },
    }
    no_face: dict[str, int] = {}
    for clip in sorted((root / "no_faces").glob("*.mp4")):
        no_face[clip.name] = sum(len(engine.detector.detect(img)) for img in frames(clip))
    folder = root / "no_faces" / "dlib_video_frames"
    if folder.is_dir():
        no_face[folder.name] = sum(
            len(engine.detector.detect(np.asarray(cv2.imread(str(p)), np.uint8))) for p in sorted(folder.glob("*.jpg"))
        )
    report["no_face_detections"] = no_face
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
