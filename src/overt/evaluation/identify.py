"""Open-set 1:N identification runs: embed once, build galleries, search, measure.

See :mod:`overt.evaluation.metrics` for the definitions. A gallery subject's score is the
maximum similarity over its enrolment templates. Ties in rank are counted against the mate
(pessimistic). Every image is embedded once per run (``embed_images``); the embedding cache
lives in memory only and is never written to disk.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from overt.evaluation.dataset import ImageRecord, Split
from overt.evaluation.metrics import (
    NO_RANK,
    NO_SCORE,
    ThresholdChoice,
    fnir_at,
    fpir_at,
    rank_k_rate,
    threshold_for_fpir,
)

FPIR_TARGETS: tuple[tuple[str, float], ...] = (("0.01", 1e-2), ("0.001", 1e-3), ("1/6000", 1.0 / 6000))
DEFAULT_SIZES = (100, 1000, 10000)


@dataclass(frozen=True, slots=True, eq=False)
class EmbeddedImage:
    """An image's template (or why there is none) and the face box used. Never persisted."""

    vector: npt.NDArray[np.float32] | None = field(repr=False)
    xyxy: tuple[float, float, float, float] | None = None
    error: str | None = None


EmbedFn = Callable[[Path], EmbeddedImage]


def embed_images(
    paths: Sequence[Path], embed: EmbedFn, *, progress: Callable[[int, int], None] | None = None
) -> dict[Path, EmbeddedImage]:
    """Embed each distinct path exactly once (the per-run cache)."""
    unique = sorted(set(paths))
    out: dict[Path, EmbeddedImage] = {}
    for i, p in enumerate(unique):
        out[p] = embed(p)
        if progress is not None:
            progress(i + 1, len(unique))
    return out


@dataclass(frozen=True, slots=True, eq=False)
class Gallery:
    """Watch-list subjects and their usable templates (rows sorted by subject)."""

    subject_ids: tuple[str, ...]
    vectors: npt.NDArray[np.float32] = field(repr=False)
    owner: npt.NDArray[np.int64]
    template_paths: tuple[Path, ...]
    failed_images: tuple[Path, ...]

    @property
    def size(self) -> int:
        return len(self.subject_ids)

    @property
    def subjects_without_template(self) -> int:
        return self.size - int(np.unique(self.owner).size)


def build_gallery(records: Sequence[ImageRecord], cache: Mapping[Path, EmbeddedImage]) -> Gallery:
    ids = tuple(sorted({r.identity for r in records}))
    index = {s: i for i, s in enumerate(ids)}
    rows: list[tuple[int, Path, npt.NDArray[np.float32]]] = []
    failed: list[Path] = []
    for r in records:
        e = cache[r.path]
        if e.vector is None:
            failed.append(r.path)
        else:
            rows.append((index[r.identity], r.path, e.vector))
    rows.sort(key=lambda x: (x[0], str(x[1])))
    dim = next((v.shape[0] for v in (e.vector for e in cache.values()) if v is not None), 1)
    vecs = np.stack([x[2] for x in rows]).astype(np.float32) if rows else np.zeros((0, dim), np.float32)
    return Gallery(
        subject_ids=ids,
        vectors=vecs,
        owner=np.asarray([x[0] for x in rows], np.int64),
        template_paths=tuple(x[1] for x in rows),
        failed_images=tuple(sorted(failed)),
    )


@dataclass(frozen=True, slots=True, eq=False)
class Searches:
    """Outcome of searching probes against one gallery.

    ``score``: mated: the mate's score; non-mated: the best candidate's score. ``rank``: mated:
    the mate's rank (``NO_RANK`` when not findable); non-mated: unused (``NO_RANK``).
    ``template``: index into the gallery's templates of the best-scoring template (mated: of the
    mate; non-mated: of the top candidate), -1 when none. ``failed``: no face in the probe.
    ``other``: mated only: the best score of any *other* subject (a wrong-subject alert when it
    is at or above the threshold and outranks the mate); ``None`` for non-mated searches.
    """

    records: tuple[ImageRecord, ...]
    score: npt.NDArray[np.float64]
    rank: npt.NDArray[np.int64]
    template: npt.NDArray[np.int64]
    failed: npt.NDArray[np.bool_]
    other: npt.NDArray[np.float64] | None = None

    def misidentified_at(self, threshold: float) -> float:
        """Share of mated searches whose top candidate is someone else scoring ``>= threshold``."""
        if self.other is None or len(self.records) == 0:
            return math.nan
        return float(np.mean((self.other >= threshold) & (self.other >= self.score)))

    def __len__(self) -> int:
        return len(self.records)

    def identity_index(self) -> npt.NDArray[np.int64]:
        _, inv = np.unique([r.identity for r in self.records], return_inverse=True)
        return np.asarray(inv, np.int64)


def search(
    gallery: Gallery,
    probes: Sequence[ImageRecord],
    cache: Mapping[Path, EmbeddedImage],
    *,
    mated: bool,
    chunk: int = 512,
) -> Searches:
    """Search every probe against the gallery (matrix products in chunks of probes)."""
    n = len(probes)
    score = np.full(n, NO_SCORE, np.float64)
    rank = np.full(n, NO_RANK, np.int64)
    tmpl = np.full(n, -1, np.int64)
    other = np.full(n, NO_SCORE, np.float64) if mated else None
    failed = np.array([cache[p.path].vector is None for p in probes], bool)
    if gallery.vectors.shape[0] == 0 or n == 0:
        return Searches(tuple(probes), score, rank, tmpl, failed, other)
    index = {s: i for i, s in enumerate(gallery.subject_ids)}
    present = np.unique(gallery.owner)
    starts = np.searchsorted(gallery.owner, present, side="left")
    ok = np.flatnonzero(~failed)
    for lo in range(0, ok.size, chunk):
        rows = ok[lo : lo + chunk]
        pv = np.stack([cache[probes[int(i)].path].vector for i in rows]).astype(np.float32)  # type: ignore[misc]
        sims = (pv @ gallery.vectors.T).astype(np.float64)  # (b, templates)
        subj = np.full((rows.size, gallery.size), NO_SCORE, np.float64)
        subj[:, present] = np.maximum.reduceat(sims, starts, axis=1)
        if other is not None:
            for k, i in enumerate(rows):
                j = index.get(probes[int(i)].identity)
                others = subj[k] if j is None else np.delete(subj[k], j)
                other[i] = float(others.max()) if others.size else NO_SCORE
                if j is None or not np.isfinite(subj[k, j]):
                    continue
                s = subj[k, j]
                score[i] = s
                rank[i] = 1 + int(np.sum(others >= s))
                cols = np.flatnonzero(gallery.owner == j)
                tmpl[i] = int(cols[np.argmax(sims[k, cols])])
        else:
            best = np.argmax(sims, axis=1)
            score[rows] = sims[np.arange(rows.size), best]
            tmpl[rows] = best
    return Searches(tuple(probes), score, rank, tmpl, failed, other)


# -- results ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TargetResult:
    """FNIR/TPIR at the threshold that meets one FPIR target (or why it cannot be measured)."""

    label: str
    choice: ThresholdChoice
    fnir: float
    tpir: float
    fallback: ThresholdChoice | None = None
    fallback_fnir: float = math.nan
    misidentified: float = math.nan

    def to_json(self) -> dict[str, object]:
        c = self.choice
        d: dict[str, object] = {
            "target_fpir": c.target_fpir,
            "measurable": c.measurable,
            "nonmated_searches": c.n_nonmated,
            "smallest_measurable_fpir": _r(c.smallest_measurable_fpir),
        }
        if c.measurable:
            d.update(
                threshold=_r(c.threshold),
                achieved_fpir=_r(c.achieved_fpir),
                fnir=_r(self.fnir),
                tpir=_r(self.tpir),
                misidentified=_r(self.misidentified),
            )
        else:
            d.update(
                threshold=None,
                fnir=None,
                tpir=None,
                note=(
                    f"not measurable: needs >= {math.ceil(1 / c.target_fpir - 1e-9)} non-mated searches, "
                    f"have {c.n_nonmated}; smallest measurable FPIR is {_fmt_rate(c.smallest_measurable_fpir)}"
                ),
            )
            fb = self.fallback
            if fb is not None and fb.measurable:
                d["at_smallest_measurable_fpir"] = {
                    "fpir": _r(fb.target_fpir),
                    "threshold": _r(fb.threshold),
                    "achieved_fpir": _r(fb.achieved_fpir),
                    "fnir": _r(self.fallback_fnir),
                    "tpir": _r(1.0 - self.fallback_fnir),
                }
        return d


@dataclass(frozen=True, slots=True)
class ThresholdRow:
    threshold: float
    fpir: float
    fnir: float
    tpir: float
    false_alerts_per_1000: float
    misidentified: float = math.nan


@dataclass(frozen=True, slots=True)
class SizeResult:
    """Watch-list size simulation: the threshold for FPIR <= target at this size and its TPIR."""

    requested: int
    reached: int
    enrolled: int
    folder_distractors: int
    borrowed_nonmated: int
    mated_searches: int
    nonmated_searches: int
    target: TargetResult
    rank1: float

    @property
    def complete(self) -> bool:
        return self.reached >= self.requested

    def to_json(self) -> dict[str, object]:
        return {
            "requested": self.requested,
            "reached": self.reached,
            "complete": self.complete,
            "enrolled_subjects": self.enrolled,
            "folder_distractors": self.folder_distractors,
            "borrowed_nonmated_identities": self.borrowed_nonmated,
            "mated_searches": self.mated_searches,
            "nonmated_searches": self.nonmated_searches,
            "rank1": _r(self.rank1),
            "at_target": self.target.to_json(),
            **(
                {}
                if self.complete
                else {"note": f"only {self.reached} identities available; size {self.requested} not reached"}
            ),
        }


@dataclass(frozen=True, slots=True)
class PairExample:
    """A probe image and the gallery image it matched best, with the score (for thumbnails)."""

    kind: str
    score: float
    probe: Path
    probe_identity: str
    gallery: Path | None
    gallery_identity: str


def _r(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 6)


def _fmt_rate(x: float) -> str:
    if math.isnan(x):
        return "n/a"
    if x <= 0:
        return "0"
    return f"{x:.2g} (1/{round(1 / x)})"


def target_results(mated: Searches, nonmated: Searches, *, rank: int = 1) -> list[TargetResult]:
    out = []
    for label, f in FPIR_TARGETS:
        out.append(target_result(label, f, mated, nonmated, rank=rank))
    return out


def target_result(label: str, f: float, mated: Searches, nonmated: Searches, *, rank: int = 1) -> TargetResult:
    c = threshold_for_fpir(nonmated.score, f)
    if not c.measurable:
        if len(nonmated) == 0:
            return TargetResult(label, c, math.nan, math.nan)
        fb = threshold_for_fpir(nonmated.score, 1.0 / len(nonmated))
        fb_fnir = fnir_at(mated.score, mated.rank, fb.threshold, rank=rank)
        return TargetResult(label, c, math.nan, math.nan, fb, fb_fnir)
    fnir = fnir_at(mated.score, mated.rank, c.threshold, rank=rank)
    return TargetResult(label, c, fnir, 1.0 - fnir, misidentified=mated.misidentified_at(c.threshold))


def threshold_table(
    mated: Searches, nonmated: Searches, thresholds: Sequence[float], *, rank: int = 1
) -> list[ThresholdRow]:
    rows = []
    for t in sorted(set(round(x, 6) for x in thresholds if math.isfinite(x))):
        fp = fpir_at(nonmated.score, t)
        fn = fnir_at(mated.score, mated.rank, t, rank=rank)
        rows.append(ThresholdRow(t, fp, fn, 1.0 - fn, 1000.0 * fp, mated.misidentified_at(t)))
    return rows


def worst_pairs(
    gallery: Gallery, mated: Searches, nonmated: Searches, *, k: int = 8
) -> tuple[list[PairExample], list[PairExample]]:
    """(highest-scoring non-mated pairs, lowest-scoring mated pairs incl. failures)."""
    ids = gallery.subject_ids

    def ex(kind: str, s: Searches, i: int) -> PairExample:
        t = int(s.template[i])
        g = gallery.template_paths[t] if t >= 0 else None
        gid = ids[int(gallery.owner[t])] if t >= 0 else s.records[i].identity
        return PairExample(kind, float(s.score[i]), s.records[i].path, s.records[i].identity, g, gid)

    nm_ok = np.flatnonzero(np.isfinite(nonmated.score))
    nm_top = nm_ok[np.argsort(-nonmated.score[nm_ok], kind="stable")][:k]
    m_order = np.argsort(mated.score, kind="stable")[:k]
    return [ex("non-mated", nonmated, int(i)) for i in nm_top], [ex("mated", mated, int(i)) for i in m_order]


@dataclass(frozen=True, slots=True, eq=False)
class IdentifyResult:
    """Everything one ``overt eval identify`` run measured."""

    split: Split
    gallery: Gallery
    mated: Searches
    nonmated: Searches
    targets: list[TargetResult]
    rank1: float
    rank5: float
    table: list[ThresholdRow]
    sizes: list[SizeResult]
    worst_nonmated: list[PairExample]
    worst_mated: list[PairExample]
    rank: int = 1

    def counts(self) -> dict[str, int]:
        s = self.split
        ids = {r.identity for r in (*s.enrol, *s.mated, *s.nonmated)}
        return {
            "identities": len(ids),
            "images": len({r.path for r in (*s.enrol, *s.mated, *s.nonmated)}),
            "enrolled_subjects": len(s.enrolled_ids),
            "enrolment_images": len(s.enrol),
            "enrolment_images_without_face": len(self.gallery.failed_images),
            "subjects_without_template": self.gallery.subjects_without_template,
            "mated_searches": len(self.mated),
            "mated_searches_without_face": int(self.mated.failed.sum()),
            "nonmated_identities": len(s.nonmated_ids),
            "nonmated_searches": len(self.nonmated),
            "nonmated_searches_without_face": int(self.nonmated.failed.sum()),
            "distractor_identities": len(s.distractor_ids),
            "excluded_identities": len(s.excluded),
        }


def evaluate(
    split: Split,
    cache: Mapping[Path, EmbeddedImage],
    *,
    sizes: Sequence[int] = DEFAULT_SIZES,
    rank: int = 1,
    seed: int = 0,
    borrow_share: float = 0.5,
    extra_thresholds: Sequence[float] = (),
) -> IdentifyResult:
    """Main evaluation on the enrolled list, plus the watch-list size sweep."""
    gallery = build_gallery(split.enrol, cache)
    mated = search(gallery, split.mated, cache, mated=True)
    nonmated = search(gallery, split.nonmated, cache, mated=False)
    targets = target_results(mated, nonmated, rank=rank)
    ths = [round(0.05 * i, 2) for i in range(2, 17)] + [t.choice.threshold for t in targets] + list(extra_thresholds)
    table = threshold_table(mated, nonmated, ths, rank=rank)
    size_results = [
        size_result(split, cache, n, seed=seed, borrow_share=borrow_share, rank=rank) for n in sorted(set(sizes))
    ]
    worst_nm, worst_m = worst_pairs(gallery, mated, nonmated)
    return IdentifyResult(
        split=split,
        gallery=gallery,
        mated=mated,
        nonmated=nonmated,
        targets=targets,
        rank1=rank_k_rate(mated.rank, 1),
        rank5=rank_k_rate(mated.rank, 5),
        table=table,
        sizes=size_results,
        worst_nonmated=worst_nm,
        worst_mated=worst_m,
        rank=rank,
    )


@dataclass(frozen=True, slots=True, eq=False)
class SizedRun:
    gallery: Gallery
    mated: Searches
    nonmated: Searches
    enrolled: int
    folder_distractors: int
    borrowed: int


def sized_run(
    split: Split,
    cache: Mapping[Path, EmbeddedImage],
    size: int,
    *,
    seed: int = 0,
    borrow_share: float = 0.5,
) -> SizedRun:
    """Gallery of ``size`` subjects (or as many as exist) and its searches.

    Smaller than the enrolled list: a seeded subset of enrolled subjects (mated probes of the
    others are left out at this size). Larger: add folder distractors, then borrow up to
    ``borrow_share`` of the non-mated identities, those with the fewest images first so that as
    many non-mated searches as possible remain (their first image enrols and they stop being
    non-mated searches at this size). Nothing is synthesised.
    """
    if size < 1:
        raise ValueError("size must be >= 1")
    rng = random.Random(seed)
    enrolled = split.enrolled_ids
    if size <= len(enrolled):
        keep = set(rng.sample(enrolled, size))
        g_recs = [r for r in split.enrol if r.identity in keep]
        mated = [r for r in split.mated if r.identity in keep]
        return _run(g_recs, mated, list(split.nonmated), cache, size, 0, 0)
    need = size - len(enrolled)
    dist_ids = split.distractor_ids
    rng.shuffle(dist_ids)
    take_d = set(dist_ids[:need])
    need -= len(take_d)
    g_recs = list(split.enrol) + [r for r in split.distractors if r.identity in take_d]
    nonmated = list(split.nonmated)
    borrowed: set[str] = set()
    if need > 0 and borrow_share > 0:
        pool = split.nonmated_ids
        rng.shuffle(pool)
        n_images: dict[str, int] = {}
        for r in split.nonmated:
            n_images[r.identity] = n_images.get(r.identity, 0) + 1
        pool.sort(key=lambda i: n_images[i])  # stable: fewest images first, seeded order within a count
        borrowed = set(pool[: min(need, math.floor(borrow_share * len(pool)))])
        first: dict[str, ImageRecord] = {}
        for r in split.nonmated:  # in folder order: the first image of each borrowed identity enrols
            if r.identity in borrowed and r.identity not in first:
                first[r.identity] = r
        g_recs += list(first.values())
        nonmated = [r for r in nonmated if r.identity not in borrowed]
    return _run(g_recs, list(split.mated), nonmated, cache, len(enrolled), len(take_d), len(borrowed))


def _run(
    g_recs: list[ImageRecord],
    mated: list[ImageRecord],
    nonmated: list[ImageRecord],
    cache: Mapping[Path, EmbeddedImage],
    enrolled: int,
    folder: int,
    borrowed: int,
) -> SizedRun:
    gallery = build_gallery(g_recs, cache)
    return SizedRun(
        gallery,
        search(gallery, mated, cache, mated=True),
        search(gallery, nonmated, cache, mated=False),
        enrolled,
        folder,
        borrowed,
    )


def size_result(
    split: Split,
    cache: Mapping[Path, EmbeddedImage],
    size: int,
    *,
    target: tuple[str, float] = FPIR_TARGETS[-1],
    seed: int = 0,
    borrow_share: float = 0.5,
    rank: int = 1,
) -> SizeResult:
    run = sized_run(split, cache, size, seed=seed, borrow_share=borrow_share)
    return SizeResult(
        requested=size,
        reached=run.gallery.size,
        enrolled=min(run.enrolled, run.gallery.size),
        folder_distractors=run.folder_distractors,
        borrowed_nonmated=run.borrowed,
        mated_searches=len(run.mated),
        nonmated_searches=len(run.nonmated),
        target=target_result(target[0], target[1], run.mated, run.nonmated, rank=rank),
        rank1=rank_k_rate(run.mated.rank, 1),
    )
