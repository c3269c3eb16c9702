"""Open-set 1:N identification metrics (NIST FRTE / NISTIR 8271 definitions), pure numpy.

A *search* compares one probe image with every subject of the gallery (watch list). A
subject's score is the highest similarity over its enrolment templates. A candidate raises an
alert when its score is ``>= threshold`` (``min_similarity``: higher is stricter).

* **Mated search** (the probe's subject is enrolled). It is a *miss* at threshold T and rank R
  when the mate is not among the top R candidates or its score is below T.
  ``FNIR(T) = misses / mated searches``; ``TPIR = 1 - FNIR``. A probe with no detectable face
  is a miss at every threshold (score ``-inf``).
* **Non-mated search** (the probe's subject is not enrolled). It is a *false positive* when
  any candidate scores ``>= T``: ``FPIR(T) = false positives / non-mated searches``. A non-mated
  probe with no detectable face returns no candidate, so it never alerts (NIST convention);
  such failures are counted and reported, never dropped.
* An FPIR target ``f`` is *measurable* only when ``f * n_nonmated >= 1``: with n non-mated
  searches the smallest FPIR one can observe above zero is ``1 / n``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

NO_SCORE = -math.inf
"""Score of a failed search (no face in the probe, or the mate has no usable template)."""

NO_RANK = 2**31
"""Rank of a mate that cannot be found (failure to template, or not enrolled)."""


def fpir_at(nonmated_max: FloatArray, threshold: float) -> float:
    """Share of non-mated searches whose best candidate scores ``>= threshold``."""
    s = np.asarray(nonmated_max, np.float64)
    if s.size == 0:
        return math.nan
    return float(np.mean(s >= threshold))


def fnir_at(mate_scores: FloatArray, mate_ranks: IntArray, threshold: float, *, rank: int = 1) -> float:
    """Share of mated searches whose mate is outside the top ``rank`` or scores ``< threshold``."""
    s = np.asarray(mate_scores, np.float64)
    r = np.asarray(mate_ranks, np.int64)
    if s.size == 0:
        return math.nan
    hit = (r <= rank) & (s >= threshold)
    return float(1.0 - np.mean(hit))


def rank_k_rate(mate_ranks: IntArray, k: int) -> float:
    """Closed-set CMC at rank k: share of mated searches whose mate is among the top k."""
    r = np.asarray(mate_ranks, np.int64)
    if r.size == 0:
        return math.nan
    return float(np.mean(r <= k))


def fpir_measurable(target: float, n_nonmated: int) -> bool:
    """Whether ``n_nonmated`` searches can resolve an FPIR of ``target`` (needs target*n >= 1)."""
    return n_nonmated > 0 and target * n_nonmated >= 1.0 - 1e-9


@dataclass(frozen=True, slots=True)
class ThresholdChoice:
    """The lowest threshold whose measured FPIR is ``<= target`` (``min_similarity``).

    ``measurable`` is False when the data cannot resolve the target (fewer than 1/target
    non-mated searches): the threshold is then ``nan`` and ``smallest_measurable_fpir`` says
    what can be measured instead. ``achieved_fpir`` is the FPIR measured at the threshold.
    """

    target_fpir: float
    measurable: bool
    threshold: float
    achieved_fpir: float
    n_nonmated: int
    smallest_measurable_fpir: float


def threshold_for_fpir(nonmated_max: FloatArray, target: float) -> ThresholdChoice:
    """Lowest threshold t (accept ``score >= t``) with ``FPIR(t) <= target``.

    With n non-mated searches at most ``floor(target * n)`` may alert, so t sits just above the
    ``floor(target * n) + 1``-th highest non-mated score. Never extrapolates below ``1 / n``.
    """
    s = np.sort(np.asarray(nonmated_max, np.float64))[::-1]
    n = int(s.size)
    smallest = 1.0 / n if n else math.nan
    if not fpir_measurable(target, n):
        return ThresholdChoice(target, False, math.nan, math.nan, n, smallest)
    allowed = math.floor(target * n + 1e-9)
    if allowed >= n:
        t = float(s[-1]) if math.isfinite(s[-1]) else -1.0
    else:
        nxt = s[allowed]
        t = float(np.nextafter(nxt, np.inf)) if math.isfinite(nxt) else -1.0
    return ThresholdChoice(target, True, t, fpir_at(s, t), n, smallest)


@dataclass(frozen=True, slots=True)
class OperatingPoint:
    """FNIR/TPIR and FPIR at one threshold."""

    threshold: float
    fpir: float
    fnir: float
    tpir: float
    false_positives: int
    misses: int


def operating_point(
    mate_scores: FloatArray, mate_ranks: IntArray, nonmated_max: FloatArray, threshold: float, *, rank: int = 1
) -> OperatingPoint:
    fnir = fnir_at(mate_scores, mate_ranks, threshold, rank=rank)
    fpir = fpir_at(nonmated_max, threshold)
    n_m, n_n = len(mate_scores), len(nonmated_max)
    return OperatingPoint(
        threshold=threshold,
        fpir=fpir,
        fnir=fnir,
        tpir=1.0 - fnir if not math.isnan(fnir) else math.nan,
        false_positives=round(fpir * n_n) if n_n else 0,
        misses=round(fnir * n_m) if n_m else 0,
    )


def det_curve(
    mate_scores: FloatArray, mate_ranks: IntArray, nonmated_max: FloatArray, *, rank: int = 1
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(thresholds, FPIR, FNIR) at every distinct finite score, thresholds ascending."""
    ms = np.asarray(mate_scores, np.float64)
    mr = np.asarray(mate_ranks, np.int64)
    nm = np.asarray(nonmated_max, np.float64)
    allsc = np.concatenate([ms[np.isfinite(ms)], nm[np.isfinite(nm)]])
    ths = np.unique(allsc)
    if ths.size == 0:
        empty = np.zeros(0, np.float64)
        return empty, empty, empty
    nm_sorted = np.sort(nm)
    fpir = (nm.size - np.searchsorted(nm_sorted, ths, side="left")) / max(1, nm.size)
    eligible = np.sort(ms[mr <= rank])
    hits = eligible.size - np.searchsorted(eligible, ths, side="left")
    fnir = 1.0 - hits / max(1, ms.size)
    return ths, fpir.astype(np.float64), fnir.astype(np.float64)


# -- confidence intervals and significance ------------------------------------------------------


def clustered_rate(values: npt.NDArray[np.bool_], clusters: IntArray) -> tuple[FloatArray, FloatArray]:
    """Per-cluster (numerator, denominator) of a boolean outcome, for identity resampling."""
    v = np.asarray(values, bool)
    c = np.asarray(clusters, np.int64)
    if v.size == 0:
        return np.zeros(0, np.float64), np.zeros(0, np.float64)
    _, inv = np.unique(c, return_inverse=True)
    num = np.asarray(np.bincount(inv, weights=v.astype(np.float64)), np.float64)
    den = np.asarray(np.bincount(inv), np.float64)
    return num, den


def bootstrap_rate_ci(
    values: npt.NDArray[np.bool_],
    clusters: IntArray,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """(rate, low, high): percentile bootstrap CI of a rate, resampling *identities* (clusters).

    Searches of one person are correlated, so whole identities are drawn with replacement and
    the rate is the ratio of summed outcomes over summed searches. Reproducible by ``seed``.
    """
    num, den = clustered_rate(values, clusters)
    if den.size == 0 or den.sum() == 0:
        return math.nan, math.nan, math.nan
    rate = float(num.sum() / den.sum())
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, den.size, size=(n_boot, den.size))
    rates = num[idx].sum(axis=1) / np.maximum(den[idx].sum(axis=1), 1e-12)
    alpha = (1.0 - level) / 2
    lo, hi = np.quantile(rates, [alpha, 1.0 - alpha])
    return rate, float(lo), float(hi)


def permutation_test_rate(
    values: npt.NDArray[np.bool_],
    clusters: IntArray,
    in_group: npt.NDArray[np.bool_],
    *,
    n_perm: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """(difference, two-sided p): rate in the group minus rate outside it, identity-level test.

    Group membership is a property of an identity, so the null distribution permutes the group
    labels over identities (not over searches). p uses the (b + 1) / (n + 1) estimator.
    """
    v = np.asarray(values, bool)
    c = np.asarray(clusters, np.int64)
    g = np.asarray(in_group, bool)
    uniq, first, inv = np.unique(c, return_index=True, return_inverse=True)
    num = np.bincount(inv, weights=v.astype(np.float64), minlength=uniq.size)
    den = np.bincount(inv, minlength=uniq.size).astype(np.float64)
    gid = g[first]
    if gid.all() or not gid.any():
        return math.nan, math.nan

    def diff(mask: npt.NDArray[np.bool_]) -> FloatArray:
        # mask: (..., n_ids) boolean
        a = (mask * num).sum(-1) / np.maximum((mask * den).sum(-1), 1e-12)
        b = (~mask * num).sum(-1) / np.maximum((~mask * den).sum(-1), 1e-12)
        return np.asarray(a - b, np.float64)

    observed = float(diff(gid))
    rng = np.random.default_rng(seed)
    perms = np.stack([rng.permutation(gid) for _ in range(n_perm)])
    null = diff(perms)
    extreme = int(np.sum(np.abs(null) >= abs(observed) - 1e-12))
    return observed, (extreme + 1) / (n_perm + 1)


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (NaN stays NaN and is not counted as a test)."""
    p = np.asarray(p_values, np.float64)
    out = np.full(p.shape, math.nan)
    valid = np.flatnonzero(~np.isnan(p))
    m = valid.size
    order = valid[np.argsort(p[valid], kind="stable")]
    running = 0.0
    for i, j in enumerate(order):
        running = max(running, min(1.0, (m - i) * float(p[j])))
        out[j] = running
    return [float(x) for x in out]
