"""1:1 verification by the standard LFW 10-fold protocol.

A pair's score is the cosine similarity of the two images' templates. A pair where either
image yields no face is never dropped: it counts as an error at every threshold (a genuine
pair is rejected, an impostor pair accepted).
"""

from __future__ import annotations

import csv
import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from overt.errors import InputError


@dataclass(frozen=True, slots=True)
class Pair:
    """Two image paths, whether they show the same person, and the fold (0-9) they belong to."""

    path_a: Path
    path_b: Path
    same: bool
    fold: int


@dataclass(frozen=True, slots=True)
class PairsResult:
    """Outcome of a verification run. ``threshold`` is the min_similarity chosen on all folds."""

    pairs: int
    genuine: int
    impostor: int
    accuracy: float
    accuracy_std: float
    tar_at_far: dict[str, float]
    thresholds_at_far: dict[str, float]
    detect_failures: int
    images: int
    failed_images: int
    threshold: float
    fold_accuracies: tuple[float, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "pairs": self.pairs,
            "genuine": self.genuine,
            "impostor": self.impostor,
            "accuracy": round(self.accuracy, 6),
            "accuracy_std": round(self.accuracy_std, 6),
            "tar_at_far": {k: round(v, 6) for k, v in self.tar_at_far.items()},
            "thresholds_at_far": {k: round(v, 6) for k, v in self.thresholds_at_far.items()},
            "detect_failures": self.detect_failures,
            "images": self.images,
            "failed_images": self.failed_images,
            "threshold": round(self.threshold, 6),
            "fold_accuracies": [round(a, 6) for a in self.fold_accuracies],
        }


FARS = (1e-2, 1e-3)


def _fold_key(f: float) -> str:
    return f"{f:g}" if f >= 1e-3 else f"{f:.0e}"


def read_lfw_pairs(pairs_file: str | Path, images_dir: str | Path) -> list[Pair]:
    """Parse LFW ``pairs.txt``: ``name n1 n2`` (same) or ``name1 n1 name2 n2`` (different).

    A first line ``10 300`` gives the folds (10 sets of 300 genuine then 300 impostor pairs);
    without it pairs are dealt into 10 folds in turn.
    """
    pf, root = Path(pairs_file), Path(images_dir)
    try:
        lines = [ln.split() for ln in pf.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{pf}: cannot read pairs file: {exc}") from exc
    if not lines:
        raise InputError(f"{pf}: empty pairs file")
    per_fold: int | None = None
    if len(lines[0]) in (1, 2) and all(t.isdigit() for t in lines[0]):
        head = [int(t) for t in lines[0]]
        per_fold = 2 * head[1] if len(head) == 2 else None
        lines = lines[1:]

    def img(name: str, num: str) -> Path:
        if not num.isdigit():
            raise InputError(f"{pf}: bad image number {num!r}")
        return root / name / f"{name}_{int(num):04d}.jpg"

    pairs: list[Pair] = []
    for i, parts in enumerate(lines):
        fold = i // per_fold if per_fold else i % 10
        if len(parts) == 3:
            pairs.append(Pair(img(parts[0], parts[1]), img(parts[0], parts[2]), True, fold))
        elif len(parts) == 4:
            pairs.append(Pair(img(parts[0], parts[1]), img(parts[2], parts[3]), False, fold))
        else:
            raise InputError(f"{pf}: line {i + 2}: expected 3 or 4 fields, got {len(parts)}")
    return pairs


_TRUE = {"1", "true", "yes", "y", "same", "t"}
_FALSE = {"0", "false", "no", "n", "different", "f"}


def read_csv_pairs(csv_file: str | Path, images_dir: str | Path | None = None) -> list[Pair]:
    """Parse a CSV with columns ``path_a,path_b,same`` (also ``file_x,file_y,same|decision``).

    Relative paths are resolved against ``images_dir`` (default: the CSV's folder). Pairs are
    dealt into 10 folds in turn, genuine and impostor separately so each fold holds both.
    """
    cf = Path(csv_file)
    root = Path(images_dir) if images_dir is not None else cf.parent
    try:
        with cf.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{cf}: cannot read CSV: {exc}") from exc
    if not rows:
        raise InputError(f"{cf}: no pairs")
    cols = {c.strip().lower(): c for c in rows[0] if c is not None}
    a_col = cols.get("path_a") or cols.get("file_x")
    b_col = cols.get("path_b") or cols.get("file_y")
    s_col = cols.get("same") or cols.get("decision")
    if not (a_col and b_col and s_col):
        raise InputError(f"{cf}: needs columns path_a,path_b,same (found: {', '.join(cols)})")
    pairs: list[Pair] = []
    counts = {True: 0, False: 0}
    for n, row in enumerate(rows, start=2):
        raw = (row.get(s_col) or "").strip().lower()
        if raw in _TRUE:
            same = True
        elif raw in _FALSE:
            same = False
        else:
            raise InputError(f"{cf}: line {n}: `same` must be 1/0, true/false or yes/no, got {raw!r}")
        pa, pb = Path((row.get(a_col) or "").strip()), Path((row.get(b_col) or "").strip())
        if not str(pa) or not str(pb) or str(pa) == "." or str(pb) == ".":
            raise InputError(f"{cf}: line {n}: empty path")
        pairs.append(
            Pair(pa if pa.is_absolute() else root / pa, pb if pb.is_absolute() else root / pb, same, counts[same] % 10)
        )
        counts[same] += 1
    return pairs


def error_proof_scores(scores: npt.NDArray[np.float64], same: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    """Replace NaN (detection failure) so the pair is wrong at every threshold."""
    out = scores.copy()
    bad = np.isnan(out)
    out[bad & same] = -np.inf
    out[bad & ~same] = np.inf
    return out


def best_threshold(scores: npt.NDArray[np.float64], same: npt.NDArray[np.bool_]) -> float:
    """Threshold (accept when score >= t) with the highest accuracy on these pairs."""
    finite = np.unique(scores[np.isfinite(scores)])
    if finite.size == 0:
        return 0.0
    cands = np.concatenate([[finite[0] - 1e-6], (finite[:-1] + finite[1:]) / 2, [finite[-1] + 1e-6]])
    acc = _accuracies(scores, same, cands)
    return float(cands[int(np.argmax(acc))])


def _accuracies(
    scores: npt.NDArray[np.float64], same: npt.NDArray[np.bool_], cands: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Accuracy at every candidate threshold at once, by sorting (O(n log n))."""
    gen = np.sort(scores[same])
    imp = np.sort(scores[~same])
    tp = gen.size - np.searchsorted(gen, cands, side="left")
    tn = np.searchsorted(imp, cands, side="left")
    return np.asarray((tp + tn) / scores.size, np.float64)


def tar_at_far(scores: npt.NDArray[np.float64], same: npt.NDArray[np.bool_], far: float) -> tuple[float, float]:
    """(TAR, threshold) at the lowest threshold whose false accept rate is <= ``far``."""
    imp = np.sort(scores[~same])[::-1]
    gen = scores[same]
    if imp.size == 0 or gen.size == 0:
        return math.nan, math.nan
    allowed = math.floor(far * imp.size)
    # Accept score >= t; t just above the (allowed+1)-th highest impostor score.
    t = float(np.nextafter(imp[allowed], np.inf)) if allowed < imp.size else float(imp[-1])
    if not math.isfinite(t):
        return 0.0, t
    return float(np.mean(gen >= t)), t


def evaluate_scores(scores: Sequence[float], same: Sequence[bool], folds: Sequence[int]) -> PairsResult:
    s = error_proof_scores(np.asarray(scores, np.float64), np.asarray(same, bool))
    y = np.asarray(same, bool)
    f = np.asarray(folds, int)
    fold_ids = sorted(set(f.tolist()))
    accs: list[float] = []
    ths: list[float] = []
    if len(fold_ids) >= 2:
        for k in fold_ids:
            train, test = f != k, f == k
            t = best_threshold(s[train], y[train])
            ths.append(t)
            accs.append(float(np.mean((s[test] >= t) == y[test])))
    else:
        t = best_threshold(s, y)
        ths.append(t)
        accs.append(float(np.mean((s >= t) == y)))
    tars, tths = {}, {}
    for far in FARS:
        tar, th = tar_at_far(s, y, far)
        tars[_fold_key(far)] = tar
        tths[_fold_key(far)] = th
    nan_count = int(np.isnan(np.asarray(scores, np.float64)).sum())
    return PairsResult(
        pairs=int(y.size),
        genuine=int(y.sum()),
        impostor=int((~y).sum()),
        accuracy=float(np.mean(accs)),
        accuracy_std=float(np.std(accs)),
        tar_at_far=tars,
        thresholds_at_far=tths,
        detect_failures=nan_count,
        images=0,
        failed_images=0,
        threshold=float(np.mean(ths)),
        fold_accuracies=tuple(accs),
    )


def run_pairs(
    pairs: Sequence[Pair],
    embed: Callable[[Path], npt.NDArray[np.float32] | None],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[PairsResult, npt.NDArray[np.float64]]:
    """Embed every distinct image once (``embed`` returns None when no face), score, evaluate."""
    unique = sorted({p.path_a for p in pairs} | {p.path_b for p in pairs})
    vecs: dict[Path, npt.NDArray[np.float32] | None] = {}
    for i, path in enumerate(unique):
        vecs[path] = embed(path)
        if progress is not None:
            progress(i + 1, len(unique))
    scores = np.empty(len(pairs), np.float64)
    for i, p in enumerate(pairs):
        va, vb = vecs[p.path_a], vecs[p.path_b]
        scores[i] = math.nan if va is None or vb is None else float(np.dot(va, vb))
    res = evaluate_scores(scores.tolist(), [p.same for p in pairs], [p.fold for p in pairs])
    failed = sum(v is None for v in vecs.values())
    return dataclasses.replace(res, images=len(unique), failed_images=failed), scores


def roc_points(
    scores: npt.NDArray[np.float64], same: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(FAR, TAR) arrays over every threshold, failures already counted as errors."""
    s = error_proof_scores(scores, same)
    order = np.argsort(-s, kind="stable")
    y = same[order]
    tp = np.cumsum(y)
    fp = np.cumsum(~y)
    return fp / max(1, int((~same).sum())), tp / max(1, int(same.sum()))


def plot_roc(scores: npt.NDArray[np.float64], same: npt.NDArray[np.bool_], out_png: str | Path, *, title: str) -> Path:
    """Save a ROC curve (TAR against FAR, log x axis) as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    far, tar = roc_points(scores, same)
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=110)
    floor = 1.0 / max(1, int((~same).sum()))
    ax.plot(np.maximum(far, floor / 2), tar, lw=2)
    for f in FARS:
        ax.axvline(f, color="grey", ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_xlim(floor / 2, 1.0)
    ax.set_ylim(0.0, 1.01)
    ax.set_xlabel("False accept rate (FAR)")
    ax.set_ylabel("True accept rate (TAR)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out
