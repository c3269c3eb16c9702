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

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from overt.domain.templates import Template
from overt.domain.watchlist import WatchlistSnapshot
from overt.errors import ConfigError, InputError
from overt.store.store import Store, Tx

IMPOSTOR_MEAN = 0.0
IMPOSTOR_STD = 0.085


@dataclass(frozen=True, slots=True)
class CalibrationProfile:
    """``<data-dir>/profiles/<name>.json`` written by ``overt calibrate``."""

    name: str
    threshold: float
    model_id: str
    expected_false_alerts_per_1000: float
    tpir: float | None = None
    gallery_size: int | None = None


def load_profile(data_dir: Path, name: str) -> CalibrationProfile:
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise InputError(f"invalid calibration profile name {name!r}")
    p = data_dir / "profiles" / f"{name}.json"
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
        return CalibrationProfile(
            name=name,
            threshold=float(doc["threshold"]),
            model_id=str(doc["model_id"]),
            expected_false_alerts_per_1000=float(doc["expected_false_alerts_per_1000"]),
            tpir=None if doc.get("tpir") is None else float(doc["tpir"]),
            gallery_size=None if doc.get("gallery_size") is None else int(doc["gallery_size"]),
        )
    except FileNotFoundError:
        raise ConfigError(f"calibration profile {name!r} not found ({p}); run overt calibrate first") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"calibration profile {p}: {exc}") from None


def estimated_fmr(min_similarity: float) -> float:
    z = (min_similarity - IMPOSTOR_MEAN) / IMPOSTOR_STD
    return 0.5 * math.erfc(z / math.sqrt(2))


def expected_false_alerts_per_1000(
    min_similarity: float, gallery_size: int, profile: CalibrationProfile | None = None
) -> tuple[float, str]:
    """(false alerts per 1,000 faces, how it was obtained)."""
    if gallery_size <= 0:
        return 0.0, "empty watch list"
    if profile is not None:
        value = profile.expected_false_alerts_per_1000
        if profile.gallery_size:
            value *= gallery_size / profile.gallery_size
            return value, f"calibration profile {profile.name} (scaled to {gallery_size} subjects)"
        return value, f"calibration profile {profile.name}"
    fpir = 1.0 - (1.0 - estimated_fmr(min_similarity)) ** gallery_size
    return 1000.0 * fpir, "estimate (no calibration profile; see overt.watchlist.snapshots)"


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
