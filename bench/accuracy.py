"""Verification accuracy on ../shared/dev-data, both face picks, and what it says about thresholds.

``python bench/accuracy.py`` (dev data at ``$OVERT_DEV_DATA`` or ``../shared/dev-data``). For each
pairs CSV: 10-fold accuracy, TAR at FAR 1e-2/1e-3, the chosen threshold and detection failures
(the same numbers as ``overt eval pairs --csv``), for ``pick="centre"`` (what ``overt eval``
uses) and ``pick="largest"``; the genuine/impostor score margins; and FAR/FRR of fixed
thresholds around the registry default. Writes bench/results/accuracy.json.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from overt.config import build_engine
from overt.errors import ImageError
from overt.evaluation.pairs import read_csv_pairs, run_pairs
from overt.vision.engine import FaceEngine, FacePick, choose_face
from overt.vision.models import ModelRegistry

SETS = (
    "faces/orl/pairs_derived.csv",
    "faces/johns/pairs_all_derived.csv",
    "faces/deepface/pairs_all_derived.csv",
    "faces/deepface/master.csv",
)
FIXED_THRESHOLDS = (0.20, 0.25, 0.28, 0.30, 0.32, 0.35, 0.40)
PICKS: tuple[FacePick, ...] = ("centre", "largest")


def dev_data() -> Path | None:
    here = Path(__file__).resolve().parents[1]
    for c in (os.environ.get("OVERT_DEV_DATA"), here.parent / "shared" / "dev-data", Path("/work/shared/dev-data")):
        if c and (Path(c) / "README.md").is_file():
            return Path(c)
    return None


def _rates(scores: npt.NDArray[np.float64], same: npt.NDArray[np.bool_], t: float) -> dict[str, float]:
    s = np.where(np.isnan(scores), np.where(same, -np.inf, np.inf), scores)
    return {
        "far": float(np.mean(s[~same] >= t)) if (~same).any() else float("nan"),
        "frr": float(np.mean(s[same] < t)) if same.any() else float("nan"),
    }


def evaluate_set(engine: FaceEngine, csv_path: Path, progress: Progress) -> dict[str, Any]:
    pairs = read_csv_pairs(csv_path)
    images = sorted({p.path_a for p in pairs} | {p.path_b for p in pairs})
    vectors: dict[str, dict[Path, npt.NDArray[np.float32] | None]] = {k: {} for k in PICKS}
    multi = differ = 0
    task = progress.add_task(csv_path.parent.name + "/" + csv_path.name, total=len(images))
    t0 = time.perf_counter()
    for path in images:
        try:
            img = engine.read(path)
        except ImageError:
            for k in PICKS:
                vectors[k][path] = None
            progress.advance(task)
            continue
        dets = engine.detect(img, expect_face=True)
        if not len(dets):
            for k in PICKS:
                vectors[k][path] = None
            progress.advance(task)
            continue
        idx = {k: choose_face(dets, img.shape[1], img.shape[0], k) if len(dets) > 1 else 0 for k in PICKS}
        multi += len(dets) > 1
        differ += idx["centre"] != idx["largest"]
        uniq = sorted(set(idx.values()))
        faces = engine.faces(img, dets[np.asarray(uniq, np.intp)], embed=True)
        by_index = {i: f.template.vector if f.template is not None else None for i, f in zip(uniq, faces, strict=True)}
        for k in PICKS:
            vectors[k][path] = by_index[idx[k]]
        progress.advance(task)
    embed_s = time.perf_counter() - t0
    out: dict[str, Any] = {
        "csv": str(csv_path),
        "images": len(images),
        "images_with_several_faces": multi,
        "images_where_pick_differs": differ,
        "embed_seconds": round(embed_s, 2),
        "ms_per_image": round(1000 * embed_s / max(1, len(images)), 1),
    }
    same = np.array([p.same for p in pairs], bool)
    for k in PICKS:
        res, scores = run_pairs(pairs, vectors[k].__getitem__)
        gen, imp = scores[same & ~np.isnan(scores)], scores[~same & ~np.isnan(scores)]
        out[k] = res.to_json() | {
            "min_genuine": round(float(gen.min()), 4) if gen.size else None,
            "max_impostor": round(float(imp.max()), 4) if imp.size else None,
            "genuine_p01": round(float(np.percentile(gen, 1)), 4) if gen.size else None,
            "impostor_p99_9": round(float(np.percentile(imp, 99.9)), 4) if imp.size else None,
            "fixed_thresholds": {f"{t:.2f}": _rates(scores, same, t) for t in FIXED_THRESHOLDS},
        }
    return out


def main() -> int:
    root = dev_data()
    console = Console(stderr=True)
    if root is None:
        console.print("../shared/dev-data is absent (set OVERT_DEV_DATA); nothing to measure")
        return 0
    engine = build_engine()
    results = []
    with Progress(console=console, transient=True) as progress:
        for rel in SETS:
            path = root / rel
            if path.is_file():
                results.append(evaluate_set(engine, path, progress))
    default = ModelRegistry().get(engine.embedder.model_id).default_threshold
    data = {"model": engine.embedder.model_id, "default_threshold": default, "sets": results}
    table = Table(title=f"Verification on dev data ({engine.embedder.model_id}, 10-fold, pick=centre / largest)")
    for col in ("set", "pairs g/i", "accuracy", "TAR@1e-2", "TAR@1e-3", "thr (acc)", "thr@1e-3", "fails", "s/img"):
        table.add_column(col, justify="right")
    for r in results:
        c, lg = r["centre"], r["largest"]
        table.add_row(
            Path(r["csv"]).parent.name + "/" + Path(r["csv"]).name,
            f"{c['genuine']}/{c['impostor']}",
            f"{100 * c['accuracy']:.2f}±{100 * c['accuracy_std']:.2f} / {100 * lg['accuracy']:.2f}",
            f"{100 * c['tar_at_far']['0.01']:.2f}",
            f"{100 * c['tar_at_far']['0.001']:.2f}",
            f"{c['threshold']:.3f}",
            f"{c['thresholds_at_far']['0.001']:.3f}",
            f"{c['detect_failures']}",
            f"{r['ms_per_image'] / 1000:.3f}",
        )
    Console().print(table)
    out = Path(__file__).resolve().parent / "results" / "accuracy.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    Console().print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
