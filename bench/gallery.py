"""Gallery benchmark: exact numpy search vs HNSW (faiss-cpu and usearch) at 100k templates.

Synthetic 512-d templates: ``subjects`` identities with ``per_subject`` templates each
(identity centre + noise), probes = other noisy samples of enrolled identities. Reports build
time, query latency (one probe, as the pipeline asks per round) and batch throughput, and
recall@1 of each ANN index against the exact search. Writes a section of BENCHMARKS.md.

    python bench/gallery.py [--templates 100000] [--write]
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from overt.matching import ExactGallery, FaissHnswGallery, Gallery

T = TypeVar("T")
START = "<!-- gallery-bench:start -->"
END = "<!-- gallery-bench:end -->"


def unit(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    out: npt.NDArray[np.float32] = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    return out


class UsearchGallery:
    """usearch HNSW behind the same search as FaissHnswGallery (benchmark only)."""

    def __init__(self, subjects: list[str], vectors: npt.NDArray[np.float32], *, model_id: str) -> None:
        from usearch.index import Index

        self.model_id = model_id
        self.dim = vectors.shape[1]
        self._subs = np.array(subjects, dtype=object)
        self._index = Index(
            ndim=self.dim, metric="ip", dtype="f32", connectivity=32, expansion_add=80, expansion_search=96
        )
        self._index.add(np.arange(len(subjects)), vectors)

    def top1(self, probes: npt.NDArray[np.float32]) -> list[str]:
        m = self._index.search(probes, 4)
        keys = np.asarray(m.keys).reshape(len(probes), -1)
        return [str(self._subs[int(k[0])]) for k in keys]


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--templates", type=int, default=100_000)
    ap.add_argument("--per-subject", type=int, default=2)
    ap.add_argument("--probes", type=int, default=1000)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n_sub = args.templates // args.per_subject
    centres = unit(rng.standard_normal((n_sub, 512)).astype(np.float32))
    # Noise so that same-identity cosine is ~0.6-0.8, as for real ArcFace templates.
    vecs = unit(
        np.repeat(centres, args.per_subject, axis=0)
        + 0.035 * rng.standard_normal((n_sub * args.per_subject, 512)).astype(np.float32)
    )
    subjects = [f"s{i}" for i in range(n_sub) for _ in range(args.per_subject)]
    pick = rng.choice(n_sub, args.probes, replace=False)
    probes = unit(centres[pick] + 0.035 * rng.standard_normal((args.probes, 512)).astype(np.float32))
    truth = [f"s{i}" for i in pick]
    rows = []
    print(f"{len(subjects)} templates ready", flush=True)
    exact, t_build = timed(lambda: ExactGallery(subjects, vecs, model_id="m"))
    print(f"exact built in {t_build:.1f} s", flush=True)
    galleries: list[tuple[str, Gallery | UsearchGallery, float]] = [("exact (numpy)", exact, t_build)]
    g, t_build = timed(lambda: FaissHnswGallery(subjects, vecs, model_id="m"))
    galleries.append(("faiss HNSW (M=32, efSearch=256)", g, t_build))
    print(f"faiss built in {t_build:.1f} s", flush=True)
    u, t_build = timed(lambda: UsearchGallery(subjects, vecs, model_id="m"))
    galleries.append(("usearch HNSW (M=32, ef=96)", u, t_build))
    exact_top = [r[0].subject for r in exact.search(probes, k=1)]
    for name, gal, build in galleries:

        def single(p: npt.NDArray[np.float32], gal: Gallery | UsearchGallery = gal) -> list[str]:
            if isinstance(gal, UsearchGallery):
                return gal.top1(p)
            return [r[0].subject for r in gal.search(p, k=1)]

        t = time.perf_counter()
        for i in range(200):
            single(probes[i : i + 1])
        one_ms = (time.perf_counter() - t) / 200 * 1000
        top, batch_s = timed(lambda: single(probes))
        recall_truth = np.mean([a == b for a, b in zip(top, truth, strict=True)])
        recall_exact = np.mean([a == b for a, b in zip(top, exact_top, strict=True)])
        rows.append((name, build, one_ms, args.probes / batch_s, recall_exact, recall_truth))
        print(rows[-1], flush=True)
    md = [
        START,
        "## Gallery search (bench/gallery.py)",
        "",
        f"{args.templates} synthetic 512-d templates ({n_sub} subjects x {args.per_subject}), {args.probes} probes;"
        " recall@1 against the exact search and against the true identity. One query = one probe, as the"
        " pipeline asks per round (a few probes).",
        "",
        "| index | build s | ms / query | queries/s (batch) | recall@1 vs exact | recall@1 vs truth |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, build, one_ms, qps, r_e, r_t in rows:
        md.append(f"| {name} | {build:.1f} | {one_ms:.2f} | {qps:.0f} | {r_e:.3f} | {r_t:.3f} |")
    md += ["", '`build_gallery(backend="auto")` uses faiss HNSW from 50,000 templates on (`ann_min_templates`).', END]
    text = "\n".join(md)
    print(text)
    if args.write:
        path = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"
        body = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
        pat = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)
        body = pat.sub(text, body) if pat.search(body) else body.rstrip("\n") + "\n\n" + text + "\n"
        path.write_text(body, encoding="utf-8")


if __name__ == "__main__":
    main()
