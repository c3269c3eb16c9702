"""Several enrolment images per subject: max over templates vs one mean template (ORL, 10 per person).

Every ORL image is embedded once (the default engine, or ``--config``). For each seed, half of the
40 people are held out as non-mated (all 10 of their images search); each enrolled person enrols
``k`` images (seeded) and the other ``10 - k`` are mated searches. A subject's score is either the
maximum similarity over its ``k`` templates (what the gallery does) or the similarity to the mean
of its templates (re-normalised). Reported: rank-1, the threshold at the smallest measurable FPIR
(no non-mated search at or above it) and the FNIR there, summed over seeds.

    python bench/multi_enrol.py [--config TOML] [--seeds 5]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import numpy.typing as npt

from overt.config import build_engine, load_config


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dev-data", default=os.environ.get("OVERT_DEV_DATA", "/work/shared/dev-data"))
    ap.add_argument("--config", type=Path)
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    engine = build_engine(load_config(args.config).engine if args.config else None)
    root = Path(args.dev_data) / "faces" / "orl"
    people = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: int(p.name[1:]))
    vecs: dict[str, npt.NDArray[np.float32]] = {}
    for p in people:
        rows = []
        for f in sorted(p.glob("*.pgm"), key=lambda f: int(f.stem)):
            face = engine.one_face(engine.read(f), pick="centre")
            assert face.template is not None
            rows.append(face.template.vector)
        vecs[p.name] = np.stack(rows)
    print(f"engine: {engine.detector.model_id} + {engine.embedder.model_id}; {len(people)} people x 10 images")
    print()
    print(
        "| k enrolled | rule | mated / non-mated searches | rank-1 | FNIR at FPIR 0 (threshold = best non-mated) "
        "| mate score min / p5 / p50 | best non-mated score p50 / p99 / max | margin p5(mate) - max(non-mated) |"
    )
    print("|---:|---|---:|---:|---:|---|---|---:|")
    names = list(vecs)
    for k in (1, 3, 5):
        for rule in ("max", "mean"):
            n_m = n_nm = hits = misses = 0
            mate_scores: list[float] = []
            nm_scores: list[float] = []
            for seed in range(args.seeds):
                rng = np.random.default_rng(seed)
                order = rng.permutation(len(names))
                enrolled = [names[i] for i in order[: len(names) // 2]]
                held = [names[i] for i in order[len(names) // 2 :]]
                gallery = []
                probes: list[tuple[int, npt.NDArray[np.float32]]] = []
                for j, n in enumerate(enrolled):
                    pick = rng.permutation(10)
                    t = vecs[n][pick[:k]]
                    if rule == "mean":
                        m = t.mean(axis=0)
                        t = (m / np.linalg.norm(m))[None, :]
                    gallery.append(t)
                    probes += [(j, vecs[n][i]) for i in pick[k:]]
                nonmated = np.concatenate([vecs[n] for n in held])

                def scores(
                    p: npt.NDArray[np.float32], gallery: list[npt.NDArray[np.float32]] = gallery
                ) -> npt.NDArray[np.float32]:
                    return np.array([float(np.max(g @ p)) for g in gallery], np.float32)

                nm_all = [float(scores(v).max()) for v in nonmated]
                nm_scores += nm_all
                nm_best = max(nm_all)
                for j, v in probes:
                    s = scores(v)
                    mate_scores.append(float(s[j]))
                    top = int(np.argmax(s))
                    hits += int(top == j)
                    misses += int(top != j or s[j] <= nm_best)
                n_m += len(probes)
                n_nm += len(nonmated)
            ms, ns = np.array(mate_scores), np.array(nm_scores)
            g = np.percentile(ms, [5, 50])
            q = np.percentile(ns, [50, 99])
            print(
                f"| {k} | {rule} | {n_m} / {n_nm} | {100 * hits / n_m:.2f} % | {100 * misses / n_m:.2f} % "
                f"| {ms.min():.3f} / {g[0]:.3f} / {g[1]:.3f} | {q[0]:.3f} / {q[1]:.3f} / {ns.max():.3f} "
                f"| {g[0] - ns.max():.3f} |"
            )


if __name__ == "__main__":
    main()
