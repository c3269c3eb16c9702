"""Frozen per-deployment watch-list snapshots, false-alert estimates, and the matcher's gallery.

At authorisation a deployment gets a snapshot of the active entries in its categories,
sealed under its own key. ``load_snapshot_gallery`` returns it to the live matcher. Closing
the deployment, or at the latest ``Policy.snapshot_shred_after`` after its planned end,
destroys that key (crypto-shredding).

False alerts per 1,000 faces: with a calibration profile, its measured figure (scaled from the
profile's gallery size to this one when the profile states it); without one, an estimate: an
impostor comparison scores above threshold ``t`` with probability ``FMR(t) = Q((t - mu)/sigma)``
(normal tail, ``mu = 0.0``, ``sigma = 0.085`` for ArcFace-type cosine similarities, a
conservative fit to published impostor distributions), and a face is compared with ``N``
templates, so ``FPIR ~= 1 - (1 - FMR(t))^N``; per 1,000 faces: ``1000 * FPIR``. Calibrate
(``overt calibrate``) for a measured figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from overt.domain.deployments import DeploymentState
from overt.domain.templates import Template
from overt.domain.watchlist import WatchlistEntry, WatchlistSnapshot
from overt.errors import InputError
from overt.evaluation.profiles import ModelProfile
from overt.store.store import Store, Tx

IMPOSTOR_MEAN = 0.0
IMPOSTOR_STD = 0.085


def estimated_fmr(min_similarity: float) -> float:
    z = (min_similarity - IMPOSTOR_MEAN) / IMPOSTOR_STD
    return 0.5 * math.erfc(z / math.sqrt(2))


def expected_false_alerts_per_1000(
    min_similarity: float, gallery_size: int, profile: ModelProfile | None = None
) -> tuple[float, str]:
    """(false alerts per 1,000 faces, how it was obtained).

    With a calibration profile written by ``overt calibrate`` for this very threshold: its
    expected figure, scaled from the watch-list size it was measured at to this one. A profile
    for another threshold does not apply: the estimate is used, and the basis says why.
    """
    if gallery_size <= 0:
        return 0.0, "empty watch list"
    if profile is not None and math.isclose(profile.min_similarity, min_similarity, abs_tol=1e-9):
        value = profile.expected_false_alerts_per_1000_faces * gallery_size / profile.watchlist_size_reached
        if gallery_size == profile.watchlist_size_reached:
            return value, f"calibration profile {profile.name}"
        return value, (
            f"calibration profile {profile.name} (measured at {profile.watchlist_size_reached} subjects, "
            f"scaled to {gallery_size})"
        )
    fpir = 1.0 - (1.0 - estimated_fmr(min_similarity)) ** gallery_size
    basis = "estimate from the model's impostor scores (no calibration profile)"
    if profile is not None:
        basis = f"estimate (threshold differs from calibration profile {profile.name}'s {profile.min_similarity:g})"
    return 1000.0 * fpir, basis


@dataclass(frozen=True, slots=True)
class LookAlike:
    """Two different subjects whose templates are too similar to tell apart at the threshold."""

    entry_a: int
    entry_b: int
    similarity: float


def look_alikes(subjects: list[tuple[int, Template]], min_similarity: float) -> list[LookAlike]:
    if len(subjects) < 2:
        return []
    ids = [i for i, _ in subjects]
    mat = np.stack([t.vector for _, t in subjects])
    sims = mat @ mat.T
    rows, cols = np.nonzero(np.triu(sims >= min_similarity, k=1))
    return [LookAlike(ids[a], ids[b], float(sims[a, b])) for a, b in zip(rows, cols, strict=True)]


@dataclass(frozen=True, slots=True)
class FrozenSnapshot:
    snapshot: WatchlistSnapshot
    look_alikes: tuple[LookAlike, ...]
    overdue_excluded: int
    """Entries in the deployment's categories left out because their review date has passed."""


def freeze_snapshot(tx: Tx, deployment_id: int) -> FrozenSnapshot:
    """Seal the deployment's snapshot: active, reviewed entries in its categories (inside ``tx``)."""
    d = tx.deployments.get(deployment_id)
    today = tx.clock.now().date()
    subjects = tx.watchlist.active_subjects(d.plan.categories, reviewed_after=today)
    overdue = len(tx.watchlist.active_ids(d.plan.categories)) - len(subjects)
    model_ids = {s.template.model_id for s in subjects}
    if len(model_ids) > 1:
        raise InputError(f"watch list mixes templates of several models ({', '.join(sorted(model_ids))})")
    model_id = model_ids.pop() if model_ids else "none"
    snap = WatchlistSnapshot(deployment_id, model_id, tuple(subjects))
    tx.snapshots.create(snap, now=tx.clock.now())
    warn = look_alikes([(s.entry_id, s.template) for s in subjects], d.plan.min_similarity)
    return FrozenSnapshot(snap, tuple(warn), overdue)


def revoked_in(tx: Tx, entry: WatchlistEntry) -> list[int]:
    """Deployments (not closed) whose live sealed snapshot holds ``entry``: frozen after it was
    added, for one of the deployment's categories."""
    out: list[int] = []
    for info in tx.snapshots.live():
        d = tx.deployments.get(info.deployment_id)
        if d.state is DeploymentState.CLOSED or info.created_at < entry.added_at:
            continue
        if entry.provenance.category in d.plan.categories:
            out.append(d.id)
    return out


def load_snapshot_gallery(store: Store, deployment_id: int) -> list[tuple[str, list[Template]]]:
    """(subject reference, templates) of a deployment's frozen watch list, for the live matcher.

    Raises ``KeyDestroyedError`` once the snapshot was crypto-shredded, ``NotFoundError`` if the
    deployment was never authorised. The result lives in memory only; never write it anywhere.
    """
    with store.transaction() as tx:
        snap = tx.snapshots.load(deployment_id)
        tx.audit.append("system", "snapshot.loaded", f"deployment:{deployment_id}", {"subjects": len(snap)})
    gallery: dict[str, list[Template]] = {}
    for s in snap.subjects:
        gallery.setdefault(s.subject_ref, []).append(s.template)
    return list(gallery.items())
