"""1:N identification on ../shared/dev-data faces across seeds (BENCHMARKS.md, "Identification (1:N)").

Embeds every image once per data set, then repeats the held-out split with several seeds and
prints a markdown table: rank-1, FNIR at the measurable FPIR targets, and the thresholds.

    python bench/identify_devdata.py [--seeds 5] [--dev-data DIR]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import tempfile
import time
from pathlib import Path

from overt.config import build_engine
from overt.evaluation.dataset import default_split, scan_identities
from overt.evaluation.identify import embed_images, evaluate
from overt.evaluation.run import engine_embed_fn


def _deepface_folder(src: Path, dst: Path) -> Path:
    with (src / "identities.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            d = dst / row["identity_id"]
            d.mkdir(parents=True, exist_ok=True)
            (d / row["image"]).symlink_to(src / row["image"])
    return dst


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--dev-data", default=os.environ.get("OVERT_DEV_DATA", "/work/shared/dev-data"))
    args = ap.parse_args()
    root = Path(args.dev_data) / "faces"
    engine = build_engine()
    embed = engine_embed_fn(engine)
    with tempfile.TemporaryDirectory() as tmp:
        sets = {"ORL": root / "orl", "deepface": _deepface_folder(root / "deepface", Path(tmp) / "deepface")}
        print(
            "| data | seed | enrolled | mated / non-mated searches | rank-1 | rank-5 | FNIR @ FPIR 1e-2 (thr) |"
            " FNIR @ smallest measurable FPIR (thr) | no face |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for name, folder in sets.items():
            ids = scan_identities(folder)
            t0 = time.perf_counter()
            cache = embed_images(sorted({p for v in ids.values() for p in v}), embed)
            dt = time.perf_counter() - t0
            nofaces = sum(e.vector is None for e in cache.values())
            r1s = []
            for seed in range(args.seeds):
                split = default_split(ids, nonmated_share=0.5, seed=seed)
                res = evaluate(split, cache, sizes=(), seed=seed)
                r1s.append(res.rank1)
                t01 = res.targets[0]
                t6k = res.targets[2]
                a = (
                    f"{100 * t01.fnir:.2f} % ({t01.choice.threshold:.3f})"
                    if t01.choice.measurable
                    else f"n/m (needs 100, has {t01.choice.n_nonmated})"
                )
                fb = t6k.fallback
                b = (
                    f"{100 * t6k.fallback_fnir:.2f} % @ 1/{fb.n_nonmated} ({fb.threshold:.3f})"
                    if fb is not None
                    else "-"
                )
                print(
                    f"| {name} | {seed} | {len(split.enrolled_ids)} | {len(res.mated)} / {len(res.nonmated)} | "
                    f"{100 * res.rank1:.2f} % | {100 * res.rank5:.2f} % | {a} | {b} | {nofaces} |"
                )
            print(
                f"<!-- {name}: {len(cache)} images embedded in {dt:.1f} s; mean rank-1 "
                f"{100 * statistics.mean(r1s):.2f} % -->"
            )


if __name__ == "__main__":
    main()
