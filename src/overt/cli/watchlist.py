"""``overt watchlist enrol DIR``: enrol one folder per subject; report accepted and rejected images."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from overt.cli._common import JSON_OPTION, out_console, print_json, state
from overt.errors import InputError
from overt.watchlist import EnrolmentReport, enrol_folder

app = typer.Typer(help="Watch lists: enrol subjects from folders of images.", no_args_is_help=True)


def report_json(report: EnrolmentReport) -> dict[str, object]:
    wl = report.watchlist
    return {
        "model_id": wl.model_id,
        "subjects": wl.subject_count,
        "templates": len(wl),
        "accepted": [
            {
                "subject": a.subject,
                "image": a.path,
                "size_px": round(a.quality.size_px, 1),
                "face_index": a.face_index,
                "faces_found": a.faces_found,
                "rule": a.rule,
            }
            for a in report.accepted
        ],
        "rejected": [{"subject": r.subject, "image": r.path, "reason": r.reason} for r in report.rejected],
    }


def print_report(report: EnrolmentReport) -> None:
    con = out_console()
    wl = report.watchlist
    con.print(
        f"[bold]Enrolled[/bold] {len(report.accepted)} image(s) of {wl.subject_count} subject(s); "
        f"rejected {len(report.rejected)}."
    )
    picked = [a for a in report.accepted if a.faces_found > 1]
    if picked:
        t = Table(show_edge=False, title="images with several faces: the face taken (index as `overt faces` lists)")
        t.add_column("subject")
        t.add_column("image")
        t.add_column("face taken")
        for a in picked:
            t.add_row(
                a.subject,
                Path(a.path).name,
                f"{a.face_index} of {a.faces_found} ({a.rule}, {a.quality.size_px:.0f} px)",
            )
        con.print(t)
    if report.rejected:
        t = Table(show_edge=False)
        t.add_column("subject")
        t.add_column("image")
        t.add_column("reason")
        for r in report.rejected:
            t.add_row(r.subject, Path(r.path).name, r.reason)
        con.print(t)


@app.command("enrol")
def enrol_cmd(
    ctx: typer.Context,
    folder: Path = typer.Argument(..., help="One sub-folder per subject (folder name = subject reference)."),
    pick: str = typer.Option(
        "one",
        "--pick",
        help="one: exactly one face per image. dominant: the largest face if >= 2x the area of the next and"
        " clear of the edge (photos with bystanders); the face taken is reported per image.",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Enrol every image that shows exactly one face of enrolment quality; list rejections with reasons."""
    if pick not in ("one", "dominant"):
        raise InputError("--pick must be one or dominant")
    report = enrol_folder(folder, state(ctx).engine(), pick="dominant" if pick == "dominant" else "one")
    if as_json:
        print_json(report_json(report))
    else:
        print_report(report)
    if not report.accepted:
        raise InputError(f"no image in {folder} could be enrolled")


def register(app_: typer.Typer) -> None:
    app_.add_typer(app, name="watchlist")
