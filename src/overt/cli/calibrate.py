"""``overt calibrate``: write the threshold for a target FPIR and watch-list size into a profile."""

from __future__ import annotations

from pathlib import Path

import typer

from overt.cli._common import JSON_OPTION, out_console, print_json
from overt.cli.eval_cmd import embed_with_progress, model_meta
from overt.evaluation.calibrate import calibrate, make_profile
from overt.evaluation.profiles import profile_path, save_profile
from overt.evaluation.run import IdentifyOptions, make_split, parse_rate


def calibrate_cmd(
    ctx: typer.Context,
    identities: Path = typer.Option(..., "--identities", help="Folder DIR/<identity>/<image>."),
    target_fpir: str = typer.Option("1/6000", "--target-fpir", help="FPIR to keep at or below (e.g. 1/6000)."),
    watchlist_size: int = typer.Option(..., "--watchlist-size", min=1, help="Watch-list size to calibrate for."),
    profile: str = typer.Option(..., "--profile", help="Profile name (a slug; never a person's name)."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Data directory (default $OVERT_DATA_DIR or the per-user data folder)."
    ),
    split_csv: Path | None = typer.Option(None, "--split", help="CSV path,role[,identity] (role enrol|probe)."),
    distractors: Path | None = typer.Option(None, "--distractors", help="Folder of extra faces (gallery only)."),
    exclude: Path | None = typer.Option(None, "--exclude", help="File of identities to drop, one per line."),
    nonmated_share: float = typer.Option(0.5, "--nonmated-share", help="Share of identities held out as non-mated."),
    seed: int = typer.Option(0, "--seed", help="Seed of the held-out split and size subsets."),
    rank: int = typer.Option(1, "--rank", min=1, help="A mate counts as found only within this rank."),
    borrow_share: float = typer.Option(
        0.5, "--borrow-share", help="At most this share of non-mated identities may become distractors."
    ),
    allow_smaller: bool = typer.Option(
        False, "--allow-smaller-watchlist", help="Calibrate on fewer identities than --watchlist-size if short."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Choose min_similarity so FPIR <= target at the watch-list size; save it as a model profile."""
    target = parse_rate(target_fpir)
    profile_path(profile, data_dir)  # validates the name before any work
    opts = IdentifyOptions(
        identities=identities,
        split_csv=split_csv,
        distractors=distractors,
        exclude=exclude,
        nonmated_share=nonmated_share,
        seed=seed,
        rank=rank,
        borrow_share=borrow_share,
    )
    split = make_split(opts)
    meta = model_meta(ctx)
    cache = embed_with_progress(ctx, split.all_images())
    cal = calibrate(
        split,
        cache,
        target_fpir=target,
        watchlist_size=watchlist_size,
        seed=seed,
        borrow_share=borrow_share,
        rank=rank,
        allow_smaller=allow_smaller,
    )
    prof = make_profile(
        profile,
        cal,
        split,
        identities_dir=identities,
        model_id=meta["model_id"],
        model_sha256=meta["model_sha256"],
        detector_id=meta["detector_id"],
        detector_sha256=meta["detector_sha256"],
        command=meta["command"],
        rank=rank,
    )
    written = save_profile(prof, data_dir)
    if as_json:
        print_json({"profile_path": str(written), **prof.model_dump(mode="json", by_alias=True)})
        return
    out_console().print(
        f"profile [bold]{profile}[/] written to {written}\n"
        f"  min_similarity {prof.min_similarity:.4f} for FPIR <= {target:.3g} at watch-list size "
        f"{prof.watchlist_size_reached}\n"
        f"  TPIR {100 * prof.tpir:.2f} % (FNIR {100 * prof.fnir:.2f} %), expected false alerts per 1,000 faces "
        f"{prof.expected_false_alerts_per_1000_faces:.3g} (measured {prof.measured_false_alerts_per_1000_faces:.3g})"
    )


def register(app: typer.Typer) -> None:
    app.command("calibrate")(calibrate_cmd)
