"""``overt eval ...``: accuracy by standard protocols."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from overt.cli._common import JSON_OPTION, err_console, out_console, print_json, state
from overt.errors import ConfigError, ImageError, MultipleFacesError, NoFaceError
from overt.evaluation.pairs import plot_roc, read_csv_pairs, read_lfw_pairs, run_pairs

app = typer.Typer(help="Evaluate accuracy with standard protocols.", no_args_is_help=True)


@app.command("pairs")
def pairs_cmd(
    ctx: typer.Context,
    lfw_pairs: Path | None = typer.Option(None, "--lfw-pairs", help="LFW pairs.txt."),
    images: Path | None = typer.Option(None, "--images", help="Image folder (LFW: DIR/<Name>/<Name>_<NNNN>.jpg)."),
    csv_pairs: Path | None = typer.Option(None, "--csv", help="CSV with columns path_a,path_b,same."),
    roc: Path = typer.Option(Path("roc.png"), "--roc", help="Where to save the ROC plot (PNG)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """1:1 verification: 10-fold accuracy, TAR at FAR 1e-2/1e-3, ROC plot."""
    if (lfw_pairs is None) == (csv_pairs is None):
        raise ConfigError("give exactly one of --lfw-pairs or --csv")
    if lfw_pairs is not None:
        if images is None:
            raise ConfigError("--lfw-pairs needs --images DIR")
        pairs = read_lfw_pairs(lfw_pairs, images)
    elif csv_pairs is not None:
        pairs = read_csv_pairs(csv_pairs, images)
    engine = state(ctx).engine()

    def embed(path: Path) -> npt.NDArray[np.float32] | None:
        try:
            face = engine.one_face(engine.read(path), pick="centre", what=str(path))
        except (NoFaceError, MultipleFacesError, ImageError):
            return None
        return None if face.template is None else face.template.vector

    with Progress(
        TextColumn("embedding images"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console(),
        transient=True,
        disable=not sys.stderr.isatty(),
    ) as bar:
        task = bar.add_task("embed", total=None)
        result, scores = run_pairs(pairs, embed, progress=lambda i, n: bar.update(task, completed=i, total=n))
    same = np.array([p.same for p in pairs], bool)
    roc_path = plot_roc(scores, same, roc, title=f"{engine.embedder.model_id}: {result.pairs} pairs")
    data = result.to_json()
    data["model"] = engine.embedder.model_id
    data["detector"] = engine.detector.model_id
    data["roc_png"] = str(roc_path)
    data["command"] = "overt " + shlex.join(sys.argv[1:]) if sys.argv else ""
    if as_json:
        print_json(data)
        return
    t = Table(title=f"Verification ({engine.embedder.model_id}, 10-fold)")
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_row("pairs (genuine / impostor)", f"{result.pairs} ({result.genuine} / {result.impostor})")
    t.add_row("accuracy", f"{100 * result.accuracy:.2f} % ± {100 * result.accuracy_std:.2f}")
    for k, v in result.tar_at_far.items():
        t.add_row(f"TAR @ FAR {k}", f"{100 * v:.2f} %")
    t.add_row("threshold (mean of folds)", f"{result.threshold:.3f}")
    t.add_row("detection failures (pairs / images)", f"{result.detect_failures} / {result.failed_images}")
    t.add_row("ROC plot", str(roc_path))
    out_console().print(t)
