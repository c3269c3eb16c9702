"""Metric functions against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from overt.evaluation.metrics import (
    NO_RANK,
    bootstrap_rate_ci,
    det_curve,
    fnir_at,
    fpir_at,
    fpir_measurable,
    holm_adjust,
    operating_point,
    permutation_test_rate,
    rank_k_rate,
    threshold_for_fpir,
)

NONMATED = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, -math.inf])
MATE_SCORES = np.array([0.95, 0.85, 0.5, -math.inf])
MATE_RANKS = np.array([1, 2, 1, NO_RANK], np.int64)


def test_fpir_at_counts_scores_at_or_above_threshold() -> None:
    assert fpir_at(NONMATED, 0.55) == pytest.approx(0.4)
    assert fpir_at(NONMATED, 0.6) == pytest.approx(0.4)  # >= is an alert
    assert fpir_at(NONMATED, 0.95) == 0.0
    # A non-mated probe without a face (-inf) never alerts, but still counts as a search.
    assert fpir_at(NONMATED, -1.0) == pytest.approx(0.9)


def test_fnir_at_needs_rank_and_score() -> None:
    # t=0.6, rank 1: only 0.95@1 is a hit; 0.85 is rank 2, 0.5 too low, failure a miss.
    assert fnir_at(MATE_SCORES, MATE_RANKS, 0.6) == pytest.approx(0.75)
    assert fnir_at(MATE_SCORES, MATE_RANKS, 0.6, rank=2) == pytest.approx(0.5)
    assert fnir_at(MATE_SCORES, MATE_RANKS, 0.4) == pytest.approx(0.5)
    assert fnir_at(MATE_SCORES, MATE_RANKS, -1.0) == pytest.approx(0.5)  # failure is a miss everywhere


def test_rank_k_rate() -> None:
    assert rank_k_rate(MATE_RANKS, 1) == pytest.approx(0.5)
    assert rank_k_rate(MATE_RANKS, 5) == pytest.approx(0.75)
    assert math.isnan(rank_k_rate(np.zeros(0, np.int64), 1))


def test_threshold_for_fpir_sits_just_above_the_allowed_score() -> None:
    c = threshold_for_fpir(NONMATED, 0.1)  # 10 searches: 1 may alert
    assert c.measurable
    assert c.threshold > 0.8
    assert c.threshold == pytest.approx(0.8)
    assert c.achieved_fpir == pytest.approx(0.1)
    c2 = threshold_for_fpir(NONMATED, 0.25)  # floor(2.5) = 2 may alert
    assert c2.threshold == pytest.approx(0.7)
    assert c2.threshold > 0.7
    assert c2.achieved_fpir == pytest.approx(0.2)


def test_unmeasurable_fpir_is_never_a_number() -> None:
    c = threshold_for_fpir(NONMATED, 1 / 6000)
    assert not c.measurable
    assert math.isnan(c.threshold)
    assert math.isnan(c.achieved_fpir)
    assert c.smallest_measurable_fpir == pytest.approx(0.1)
    assert fpir_measurable(1 / 6000, 6000)
    assert not fpir_measurable(1 / 6000, 5999)
    assert fpir_measurable(1e-3, 1000)


def test_operating_point_and_det_curve() -> None:
    op = operating_point(MATE_SCORES, MATE_RANKS, NONMATED, 0.6)
    assert (op.fpir, op.fnir, op.tpir) == pytest.approx((0.4, 0.75, 0.25))
    assert (op.false_positives, op.misses) == (4, 3)
    ths, fpir, fnir = det_curve(MATE_SCORES, MATE_RANKS, NONMATED)
    assert np.all(np.diff(ths) > 0)
    assert np.all(np.diff(fpir) <= 0)
    assert np.all(np.diff(fnir) >= 0)
    i = int(np.flatnonzero(ths == 0.6)[0])
    assert (fpir[i], fnir[i]) == pytest.approx((0.4, 0.75))


def _clustered(rates: list[float], per_id: int = 10) -> tuple[np.ndarray, np.ndarray]:
    vals, clusters = [], []
    for k, r in enumerate(rates):
        hits = round(r * per_id)
        vals += [True] * hits + [False] * (per_id - hits)
        clusters += [k] * per_id
    return np.array(vals), np.array(clusters, np.int64)


def test_bootstrap_ci_is_reproducible_by_seed_and_covers_the_rate() -> None:
    v, c = _clustered([0.1, 0.2, 0.3, 0.0, 0.5, 0.2, 0.1, 0.4])
    a = bootstrap_rate_ci(v, c, seed=7)
    b = bootstrap_rate_ci(v, c, seed=7)
    assert a == b
    rate, lo, hi = a
    assert rate == pytest.approx(0.225)
    assert lo < rate < hi
    assert lo >= 0.0
    assert hi <= 1.0


def test_permutation_test_flags_obvious_bias_only() -> None:
    biased_v, biased_c = _clustered([0.6] * 20 + [0.1] * 20)
    group = biased_c < 20
    diff, p = permutation_test_rate(biased_v, biased_c, group, n_perm=999, seed=1)
    assert diff == pytest.approx(0.5)
    assert p < 0.01
    fair_v, fair_c = _clustered([0.1, 0.3, 0.2, 0.4] * 10)
    fair_group = (fair_c % 2) == (fair_c // 4) % 2  # same mix of rates in both groups
    diff2, p2 = permutation_test_rate(fair_v, fair_c, fair_group, n_perm=999, seed=1)
    assert abs(diff2) < 0.05
    assert p2 > 0.2


def test_holm_adjust() -> None:
    assert holm_adjust([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    out = holm_adjust([0.01, math.nan])
    assert out[0] == pytest.approx(0.01)
    assert math.isnan(out[1])
