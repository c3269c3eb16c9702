"""Presentation-attack detection error rates, in ISO/IEC 30107-3 terms.

- APCER (attack presentation classification error rate): share of attack presentations
  accepted as bona fide (P(live) >= threshold).
- BPCER (bona fide presentation classification error rate): share of bona fide (live)
  presentations rejected as attacks (P(live) < threshold).
- ACER = (APCER + BPCER) / 2 (a summary used by PAD benchmarks; 30107-3 reports the two rates).

The DET curve plots BPCER against APCER over every threshold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from overt.errors import InputError
from overt.vision.pad import PresentationAttackDetector

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PadRates:
    threshold: float
    apcer: float
    bpcer: float
    acer: float
    attacks: int
    bona_fide: int


def pad_rates(bona_fide: FloatArray, attacks: FloatArray, threshold: float) -> PadRates:
    """Rates at ``threshold`` from P(live) scores of bona fide and attack presentations."""
    bf = np.asarray(bona_fide, np.float64)
    at = np.asarray(attacks, np.float64)
    apcer = float((at >= threshold).mean()) if at.size else float("nan")
    bpcer = float((bf < threshold).mean()) if bf.size else float("nan")
    return PadRates(threshold, apcer, bpcer, (apcer + bpcer) / 2, int(at.size), int(bf.size))


def pad_det(bona_fide: FloatArray, attacks: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(thresholds, APCER, BPCER) at every distinct score (and above the highest)."""
    bf = np.sort(np.asarray(bona_fide, np.float64))
    at = np.sort(np.asarray(attacks, np.float64))
    ths = np.unique(np.concatenate([bf, at, [np.inf]]))
    apcer = (at.size - np.searchsorted(at, ths, side="left")) / max(1, at.size)
    bpcer = np.searchsorted(bf, ths, side="left") / max(1, bf.size)
    return ths, apcer.astype(np.float64), bpcer.astype(np.float64)


def plot_pad_det(bona_fide: FloatArray, attacks: FloatArray, rates: PadRates, out_png: Path, *, title: str) -> Path:
    """Save the DET curve (BPCER against APCER, log axes) with the operating point marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, apcer, bpcer = pad_det(bona_fide, attacks)
    floor = 0.5 / max(1, len(attacks), len(bona_fide))
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=110)
    ax.step(np.maximum(apcer, floor), np.maximum(bpcer, floor), where="post", lw=2)
    ax.plot([max(rates.apcer, floor)], [max(rates.bpcer, floor)], "o", color="crimson",
            label=f"threshold {rates.threshold:g}: APCER {rates.apcer:.1%}, BPCER {rates.bpcer:.1%}")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(floor, 1.05)
    ax.set_ylim(floor, 1.05)
    ax.set_xlabel("APCER (attacks accepted)")
    ax.set_ylabel("BPCER (bona fide rejected)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out_png)
    plt.close(fig)
    return out_png


@dataclass(frozen=True, slots=True)
class ScoredFolder:
    scores: FloatArray
    images: int
    no_face: int
    """Images in which no face was found: scored on the whole image."""


def image_paths(folder: Path) -> list[Path]:
    from overt.evaluation.dataset import IMAGE_SUFFIXES

    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def score_folder(
    pad: PresentationAttackDetector,
    folder: Path,
    detect: Callable[[npt.NDArray[np.uint8]], npt.NDArray[np.float32]] | None,
) -> ScoredFolder:
    """P(live) of every image under ``folder``: the largest face ``detect`` finds (its boxes,
    ``(N, 4)`` xyxy), or the whole image when there is none or ``detect`` is ``None``."""
    from overt.vision.imageio import read_image

    paths = image_paths(folder)
    if not paths:
        raise InputError(f"{folder} holds no images")
    scores: list[float] = []
    no_face = 0
    for p in paths:
        img = read_image(p)
        h, w = img.shape[:2]
        box = np.array([0, 0, w, h], np.float32)
        if detect is not None:
            boxes = detect(img)
            if len(boxes):
                areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
                box = boxes[int(np.argmax(areas))]
            else:
                no_face += 1
        scores.append(pad.live_score(img, box))
    return ScoredFolder(np.asarray(scores, np.float64), len(paths), no_face)
