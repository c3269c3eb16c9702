"""Per-group rates, CIs and significance flags on synthetic searches with known bias."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from overt.evaluation.dataset import ImageRecord
from overt.evaluation.fairness import group_curves, group_rates
from overt.evaluation.identify import Searches


def _searches(miss_rate_by_id: dict[str, float], per_id: int = 10, *, mated: bool) -> Searches:
    recs, scores = [], []
    for ident, rate in miss_rate_by_id.items():
        misses = round(rate * per_id)
        for j in range(per_id):
            recs.append(ImageRecord(Path(f"/d/{ident}/{j}.png"), ident))
            err = j < misses
            # mated: a miss scores low; non-mated: an error (false positive) scores high
            scores.append((0.1 if err else 0.8) if mated else (0.8 if err else 0.1))
    n = len(recs)
    return Searches(tuple(recs), np.array(scores), np.ones(n, np.int64), np.zeros(n, np.int64), np.zeros(n, bool))


def test_biased_group_is_flagged_and_unbiased_is_not() -> None:
    ids = [f"i{k:02d}" for k in range(40)]
    groups = {"skin": {i: ("dark" if k < 20 else "light") for k, i in enumerate(ids)}}
    mated = _searches({i: (0.5 if k < 20 else 0.1) for k, i in enumerate(ids)}, mated=True)
    non = _searches({i: 0.1 for i in ids}, mated=False)
    rates = group_rates(mated, non, groups, 0.5, n_boot=500, n_perm=999, seed=0)
    by = {(g.group, g.metric): g for g in rates}
    assert by[("dark", "FNIR")].rate == 0.5
    assert by[("light", "FNIR")].rate == 0.1
    assert by[("dark", "FNIR")].significant
    assert by[("light", "FNIR")].significant
    assert not by[("dark", "FPIR")].significant
    assert not by[("light", "FPIR")].significant
    lo, hi = by[("dark", "FNIR")].ci_low, by[("dark", "FNIR")].ci_high
    assert lo <= 0.5 <= hi
    again = group_rates(mated, non, groups, 0.5, n_boot=500, n_perm=999, seed=0)
    assert [g.to_json() for g in again] == [g.to_json() for g in rates]


def test_group_curves_follow_the_threshold() -> None:
    ids = [f"i{k}" for k in range(4)]
    labels = {i: ("a" if k < 2 else "b") for k, i in enumerate(ids)}
    mated = _searches({i: 0.5 for i in ids}, mated=True)
    non = _searches({i: 0.2 for i in ids}, mated=False)
    curves = group_curves(mated, non, labels, [0.0, 0.5, 0.9])
    fn, fp = curves["a"]
    assert fn == [0.0, 0.5, 1.0]
    assert fp == [1.0, 0.2, 0.0]
