"""``overt report DEPLOYMENT`` or ``overt report --from --to``: transparency reports."""

from __future__ import annotations

from pathlib import Path

import typer

from overt.cli._common import JSON_OPTION, out_console, print_json
from overt.cli._gov import DATA_DIR_OPTION, DB_URL_OPTION, USER_OPTION, acting_user, open_store
from overt.domain.users import Permission
from overt.domain.watchlist import parse_datetime
from overt.errors import InputError
from overt.transparency.report import deployment_report, period_report, render_html, to_json


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report_cmd(
        deployment_id: int | None = typer.Argument(None, help="One deployment (or give --from/--to)."),
        start: str | None = typer.Option(None, "--from", help="Period start, ISO 8601 with timezone."),
        end: str | None = typer.Option(None, "--to", help="Period end, ISO 8601 with timezone."),
        html_out: Path | None = typer.Option(None, "--html", help="Write the HTML page here."),
        data_dir_: Path | None = DATA_DIR_OPTION,
        database_url: str | None = DB_URL_OPTION,
        user: str | None = USER_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Transparency report: JSON on stdout with --json, a self-contained HTML page with --html."""
        store, _ = open_store(data_dir_, database_url)
        actor = acting_user(store, user)
        actor.require(Permission.REPORT)
        if deployment_id is not None:
            if start or end:
                raise InputError("give a deployment id or --from/--to, not both")
            rep = deployment_report(store, deployment_id, actor=actor.name)
        elif start and end:
            rep = period_report(  # type: ignore[assignment]
                store, parse_datetime("--from", start), parse_datetime("--to", end), actor=actor.name
            )
        else:
            raise InputError("give a deployment id, or both --from and --to")
        if html_out is not None:
            html_out.write_text(render_html(rep), encoding="utf-8")
        if as_json:
            print_json(to_json(rep))
        else:
            doc = to_json(rep)
            c = out_console()
            for k, v in doc.items():
                if k != "deployments":
                    c.print(f"{k.replace('_', ' ')}: {_human(v)}", markup=False)
            if html_out is not None:
                c.print(f"HTML report written to {html_out}")


def _human(v: object) -> str:
    """A value for people: no Python reprs (dicts, tuples, None)."""
    if v is None:
        return "-"
    if isinstance(v, dict):
        return ", ".join(f"{str(k).replace('_', ' ')}: {_human(x)}" for k, x in v.items()) or "-"
    if isinstance(v, list | tuple):
        return ", ".join(_human(x).replace("_", " ") for x in v) or "-"
    return str(v)
