"""Choose the threshold for a target FPIR at a watch-list size and turn it into a profile."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from overt import __version__
from overt.errors import InputError
from overt.evaluation.dataset import Split
from overt.evaluation.identify import EmbeddedImage, sized_run
from overt.evaluation.metrics import ThresholdChoice, fnir_at, threshold_for_fpir
from overt.evaluation.profiles import CalibrationData, ModelProfile


@dataclass(frozen=True, slots=True)
class Calibration:
    choice: ThresholdChoice
    watchlist_size: int
    reached: int
    tpir: float
    fnir: float
    mated_searches: int
    nonmated_searches: int
    detection_failures: int


def calibrate(
    split: Split,
    cache: Mapping[Path, EmbeddedImage],
    *,
    target_fpir: float,
    watchlist_size: int,
    seed: int = 0,
    borrow_share: float = 0.5,
    rank: int = 1,
    allow_smaller: bool = False,
) -> Calibration:
    """Threshold with FPIR <= target on a gallery of ``watchlist_size`` subjects.

    Refuses (``InputError``) when the target cannot be measured with the non-mated searches
    available, and when the watch-list size cannot be reached (a threshold calibrated on a
    smaller list lets through more false alerts on a bigger one) unless ``allow_smaller``.
    """
    run = sized_run(split, cache, watchlist_size, seed=seed, borrow_share=borrow_share)
    reached = run.gallery.size
    if reached < watchlist_size and not allow_smaller:
        raise InputError(
            f"watch-list size {watchlist_size} not reachable: only {reached} identities available "
            "(add --distractors DIR, or --allow-smaller-watchlist to calibrate on what exists)"
        )
    choice = threshold_for_fpir(run.nonmated.score, target_fpir)
    if not choice.measurable:
        need = math.ceil(1.0 / target_fpir - 1e-9)
        raise InputError(
            f"target FPIR {target_fpir:.3g} not measurable: needs >= {need} non-mated searches, have "
            f"{choice.n_nonmated} (smallest measurable FPIR 1/{choice.n_nonmated}); add identities not on the list"
            + (
                f" ({run.borrowed} non-mated identities became distractors: --borrow-share 0 keeps them)"
                if run.borrowed
                else ""
            )
        )
    fnir = fnir_at(run.mated.score, run.mated.rank, choice.threshold, rank=rank)
    failures = sum(1 for p in split.all_images() if cache[p].vector is None)
    return Calibration(choice, watchlist_size, reached, 1.0 - fnir, fnir, len(run.mated), len(run.nonmated), failures)


def make_profile(
    name: str,
    cal: Calibration,
    split: Split,
    *,
    identities_dir: Path,
    model_id: str,
    model_sha256: str,
    detector_id: str,
    detector_sha256: str,
    command: str,
    rank: int = 1,
) -> ModelProfile:
    c = cal.choice
    recs = (*split.enrol, *split.mated, *split.nonmated)
    return ModelProfile(
        name=name,
        model_id=model_id,
        model_sha256=model_sha256,
        detector_id=detector_id,
        detector_sha256=detector_sha256,
        min_similarity=round(c.threshold, 6),
        target_fpir=c.target_fpir,
        measured_fpir=c.achieved_fpir,
        watchlist_size=cal.watchlist_size,
        watchlist_size_reached=cal.reached,
        tpir=round(cal.tpir, 6),
        fnir=round(cal.fnir, 6),
        rank=rank,
        expected_false_alerts_per_1000_faces=round(1000.0 * c.target_fpir, 6),
        measured_false_alerts_per_1000_faces=round(1000.0 * c.achieved_fpir, 6),
        data=CalibrationData(
            identities_dir=str(identities_dir),
            file_list_sha256=split.file_list_sha256(identities_dir),
            identities=len({r.identity for r in recs}),
            images=len({r.path for r in recs}),
            enrolled_subjects=len(split.enrolled_ids),
            mated_searches=cal.mated_searches,
            nonmated_searches=cal.nonmated_searches,
            distractor_identities=len(split.distractor_ids),
            excluded_identities=len(split.excluded),
            split_rule=split.rule,
            seed=split.seed,
            detection_failures=cal.detection_failures,
        ),
        created_utc=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        command=command,
        overt_version=__version__,
    )
