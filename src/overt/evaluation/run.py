"""Glue for ``overt eval identify`` and ``overt calibrate``: options -> split -> embed -> results."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from overt import __version__
from overt.errors import ImageError, InputError, MultipleFacesError, NoFaceError
from overt.evaluation.dataset import (
    Split,
    default_split,
    read_exclude,
    read_groups,
    read_split,
    scan_distractors,
    scan_identities,
    with_distractors,
)
from overt.evaluation.fairness import group_curves, group_rates
from overt.evaluation.identify import (
    DEFAULT_SIZES,
    EmbeddedImage,
    EmbedFn,
    IdentifyResult,
    embed_images,
    evaluate,
)
from overt.evaluation.metrics import threshold_for_fpir
from overt.evaluation.report import det_png, fairness_json, npl_png, pairs_json, render_html

if TYPE_CHECKING:
    from overt.vision.engine import FaceEngine


@dataclass(frozen=True, slots=True)
class IdentifyOptions:
    """Inputs of a 1:N evaluation (CLI flags, validated)."""

    identities: Path
    split_csv: Path | None = None
    groups_csv: Path | None = None
    distractors: Path | None = None
    exclude: Path | None = None
    sizes: tuple[int, ...] = DEFAULT_SIZES
    nonmated_share: float = 0.5
    seed: int = 0
    rank: int = 1
    borrow_share: float = 0.5
    threshold: float | None = None
    target_fpir: float = 1.0 / 6000
    n_boot: int = 1000
    n_perm: int = 2000
    alpha: float = 0.05
    extra_thresholds: tuple[float, ...] = field(default=())


def parse_rate(text: str) -> float:
    """``"1/6000"``, ``"1e-3"`` or ``"0.001"`` -> float in (0, 1)."""
    t = text.strip()
    try:
        if "/" in t:
            num, den = t.split("/", 1)
            v = float(num) / float(den)
        else:
            v = float(t)
    except (ValueError, ZeroDivisionError):
        raise InputError(f"not a rate: {text!r} (use e.g. 1/6000 or 1e-3)") from None
    if not 0.0 < v < 1.0:
        raise InputError(f"rate must be in (0, 1), got {text!r}")
    return v


def parse_sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(x.replace("_", "").strip()) for x in text.split(",") if x.strip())
    except ValueError:
        raise InputError(f"--sizes must be comma-separated integers, got {text!r}") from None
    if not sizes or any(s < 1 for s in sizes):
        raise InputError("--sizes must be positive integers")
    return sizes


def make_split(opts: IdentifyOptions) -> Split:
    excl = read_exclude(opts.exclude) if opts.exclude is not None else set()
    if opts.split_csv is not None:
        split = read_split(opts.split_csv, opts.identities, exclude=excl)
    else:
        split = default_split(
            scan_identities(opts.identities), nonmated_share=opts.nonmated_share, seed=opts.seed, exclude=excl
        )
    if opts.distractors is not None:
        split = with_distractors(split, scan_distractors(opts.distractors))
    if not split.mated:
        raise InputError("no mated probes: every enrolled identity needs a second image")
    return split


def engine_embed_fn(engine: FaceEngine) -> EmbedFn:
    """Embed the face nearest the image centre; no face or unreadable -> an entry with ``error``."""

    def embed(path: Path) -> EmbeddedImage:
        try:
            face = engine.one_face(engine.read(path), pick="centre", what=str(path))
        except NoFaceError:
            return EmbeddedImage(None, None, "no face")
        except (MultipleFacesError, ImageError) as exc:
            return EmbeddedImage(None, None, exc.__class__.__name__)
        if face.template is None:
            return EmbeddedImage(None, None, "no template")
        x1, y1, x2, y2 = (float(v) for v in face.xyxy)
        return EmbeddedImage(face.template.vector, (x1, y1, x2, y2))

    return embed


@dataclass(frozen=True, slots=True, eq=False)
class IdentifyRun:
    result: IdentifyResult
    cache: Mapping[Path, EmbeddedImage]
    data: dict[str, Any]
    det_png: bytes
    npl_png: bytes | None

    def html(self) -> str:
        return render_html(self.data, det=self.det_png, npl=self.npl_png, cache=self.cache, result=self.result)


def run_identify(
    opts: IdentifyOptions,
    embed: EmbedFn,
    meta: Mapping[str, Any],
    *,
    progress: Callable[[int, int], None] | None = None,
    split: Split | None = None,
    cache: Mapping[Path, EmbeddedImage] | None = None,
) -> IdentifyRun:
    """Whole evaluation; ``meta`` carries model ids/sha256 and the command for provenance."""
    sp = split if split is not None else make_split(opts)
    c = cache if cache is not None else embed_images(sp.all_images(), embed, progress=progress)
    result = evaluate(
        sp,
        c,
        sizes=opts.sizes,
        rank=opts.rank,
        seed=opts.seed,
        borrow_share=opts.borrow_share,
        extra_thresholds=(*opts.extra_thresholds, *([opts.threshold] if opts.threshold is not None else [])),
    )
    data = identify_json(result, opts, meta)
    npl = None
    if opts.groups_csv is not None:
        groups = read_groups(opts.groups_csv, exclude=sp.excluded)
        thr, source = operating_threshold(result, opts)
        rates = group_rates(
            result.mated,
            result.nonmated,
            groups,
            thr,
            rank=opts.rank,
            n_boot=opts.n_boot,
            n_perm=opts.n_perm,
            seed=opts.seed,
            alpha=opts.alpha,
        )
        data["fairness"] = fairness_json(rates, thr, source)
        sweep = [round(0.05 * i, 2) for i in range(19)]
        data["fairness"]["by_threshold"] = {
            "thresholds": sweep,
            "attributes": {
                attr: {
                    g: {"fnir": [_r(x) for x in fn], "fpir": [_r(x) for x in fp]}
                    for g, (fn, fp) in group_curves(
                        result.mated, result.nonmated, labels, sweep, rank=opts.rank
                    ).items()
                }
                for attr, labels in sorted(groups.items())
            },
        }
        npl = npl_png(result.mated, result.nonmated, groups, thr, rank=opts.rank)
    title = f"{meta.get('model_id', '?')}: {len(result.mated)} mated / {len(result.nonmated)} non-mated searches"
    return IdentifyRun(result, c, data, det_png(result, title=title), npl)


def operating_threshold(result: IdentifyResult, opts: IdentifyOptions) -> tuple[float, str]:
    """``--threshold`` if given; else the one meeting ``target_fpir``; else the strictest measurable."""
    if opts.threshold is not None:
        return opts.threshold, "threshold given with --threshold"
    c = threshold_for_fpir(result.nonmated.score, opts.target_fpir)
    if c.measurable:
        return c.threshold, f"threshold for FPIR <= {opts.target_fpir:.3g} on this data"
    n = len(result.nonmated)
    c = threshold_for_fpir(result.nonmated.score, 1.0 / n)
    return (
        c.threshold,
        f"FPIR {opts.target_fpir:.3g} not measurable with {n} non-mated searches; "
        f"using the threshold for the smallest measurable FPIR (1/{n})",
    )


def identify_json(result: IdentifyResult, opts: IdentifyOptions, meta: Mapping[str, Any]) -> dict[str, Any]:
    sp = result.split
    root = opts.identities
    m = {
        **meta,
        "identities_dir": str(opts.identities),
        "split_rule": sp.rule,
        "seed": opts.seed,
        "nonmated_share": opts.nonmated_share if opts.split_csv is None else None,
        "file_list_sha256": sp.file_list_sha256(root),
        "excluded": list(sp.excluded),
        "rank": opts.rank,
        "overt_version": __version__,
    }
    m.setdefault("date_utc", dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat())
    return {
        "meta": m,
        "counts": result.counts(),
        "fnir_at_fpir": {t.label: t.to_json() for t in result.targets},
        "rank1": _r(result.rank1),
        "rank5": _r(result.rank5),
        "threshold_table": [
            {
                "threshold": r.threshold,
                "fpir": _r(r.fpir),
                "fnir": _r(r.fnir),
                "tpir": _r(r.tpir),
                "false_alerts_per_1000": _r(r.false_alerts_per_1000),
                "misidentified": _r(r.misidentified),
            }
            for r in result.table
        ],
        "watchlist_sizes": [s.to_json() for s in result.sizes],
        "highest_nonmated_pairs": pairs_json(result.worst_nonmated, root),
        "lowest_mated_pairs": pairs_json(result.worst_mated, root),
        "enrolment_images_without_face": [str(p) for p in result.gallery.failed_images],
    }


def _r(x: float) -> float | None:
    return None if math.isnan(x) else round(x, 6)
