"""Per-group FNIR and FPIR with identity-level bootstrap CIs and significance tests.

Method (stated in every report):

* Groups come from a user CSV (identity -> any attributes). FNIR of a group uses the mated
  searches of its identities; FPIR uses the non-mated searches whose *probe* identity is in it.
* 95 % confidence intervals: percentile bootstrap resampling identities (clusters) within the
  group, ``n_boot`` draws, seeded.
* Significance: for each (attribute, group, metric), a two-sided permutation test of the rate
  in the group minus the rate in all other labelled identities, permuting group labels over
  identities (``n_perm`` permutations, seeded). The p-values of all tests in one report are
  adjusted by Holm-Bonferroni; a difference is flagged when the adjusted p < ``alpha``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from overt.evaluation.identify import Searches
from overt.evaluation.metrics import bootstrap_rate_ci, holm_adjust, permutation_test_rate

METHOD = (
    "95 % CIs: percentile bootstrap over identities (seeded); significance: two-sided permutation test "
    "of group vs. all other labelled identities, labels permuted over identities, Holm-Bonferroni "
    "correction over every test in the report, flagged when adjusted p < alpha"
)


@dataclass(frozen=True, slots=True)
class GroupRate:
    attribute: str
    group: str
    metric: str  # "FNIR" or "FPIR"
    rate: float
    ci_low: float
    ci_high: float
    searches: int
    identities: int
    diff_vs_rest: float
    p_value: float
    p_adjusted: float
    significant: bool

    def to_json(self) -> dict[str, object]:
        def r(x: float) -> float | None:
            return None if math.isnan(x) else round(x, 6)

        return {
            "attribute": self.attribute,
            "group": self.group,
            "metric": self.metric,
            "rate": r(self.rate),
            "ci95": [r(self.ci_low), r(self.ci_high)],
            "searches": self.searches,
            "identities": self.identities,
            "diff_vs_rest": r(self.diff_vs_rest),
            "p_value": r(self.p_value),
            "p_holm": r(self.p_adjusted),
            "significant": self.significant,
        }


def _outcomes(s: Searches, threshold: float, *, mated: bool, rank: int) -> npt.NDArray[np.bool_]:
    """Error indicator per search: mated -> miss, non-mated -> false positive."""
    if mated:
        return np.asarray(~((s.rank <= rank) & (s.score >= threshold)), bool)
    return np.asarray(s.score >= threshold, bool)


def group_rates(
    mated: Searches,
    nonmated: Searches,
    groups: Mapping[str, Mapping[str, str]],
    threshold: float,
    *,
    rank: int = 1,
    n_boot: int = 1000,
    n_perm: int = 2000,
    seed: int = 0,
    alpha: float = 0.05,
) -> list[GroupRate]:
    """FNIR and FPIR per group at ``threshold``, with CIs and Holm-corrected significance flags."""
    raw: list[tuple[str, str, str, float, float, float, int, int, float, float]] = []
    for attr, labels in sorted(groups.items()):
        for metric, s, is_mated in (("FNIR", mated, True), ("FPIR", nonmated, False)):
            if len(s) == 0:
                continue
            ids = [r.identity for r in s.records]
            lab = np.array([labels.get(i, "") for i in ids], dtype=object)
            labelled = lab != ""
            if not labelled.any():
                continue
            err = _outcomes(s, threshold, mated=is_mated, rank=rank)
            clusters = s.identity_index()
            for g in sorted({str(x) for x in lab[labelled]}):
                in_g = lab == g
                rate, lo, hi = bootstrap_rate_ci(err[in_g], clusters[in_g], n_boot=n_boot, seed=seed)
                diff, p = permutation_test_rate(
                    err[labelled], clusters[labelled], in_g[labelled], n_perm=n_perm, seed=seed
                )
                raw.append((attr, g, metric, rate, lo, hi, int(in_g.sum()), len(set(clusters[in_g].tolist())), diff, p))
    adjusted = holm_adjust([x[9] for x in raw])
    return [
        GroupRate(*x, p_adjusted=pa, significant=(not math.isnan(pa)) and pa < alpha)
        for x, pa in zip(raw, adjusted, strict=True)
    ]


def group_curves(
    mated: Searches,
    nonmated: Searches,
    labels: Mapping[str, str],
    thresholds: Sequence[float],
    *,
    rank: int = 1,
) -> dict[str, tuple[list[float], list[float]]]:
    """``{group: (FNIR per threshold, FPIR per threshold)}`` for one attribute."""
    out: dict[str, tuple[list[float], list[float]]] = {}
    m_lab = np.array([labels.get(r.identity, "") for r in mated.records], dtype=object)
    n_lab = np.array([labels.get(r.identity, "") for r in nonmated.records], dtype=object)
    for g in sorted({str(x) for x in (*m_lab.tolist(), *n_lab.tolist())} - {""}):
        fn, fp = [], []
        for t in thresholds:
            mm = m_lab == g
            nn = n_lab == g
            fn.append(float(_outcomes(mated, t, mated=True, rank=rank)[mm].mean()) if mm.any() else math.nan)
            fp.append(float(_outcomes(nonmated, t, mated=False, rank=rank)[nn].mean()) if nn.any() else math.nan)
        out[g] = (fn, fp)
    return out
