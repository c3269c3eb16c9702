"""``overt purge [--dry-run]``: delete alerts past retention, destroy due snapshot keys."""

from __future__ import annotations

from pathlib import Path

import typer

from overt.alerts.spool import spool_dir
from overt.cli._common import JSON_OPTION, out_console, print_json
from overt.cli._gov import DATA_DIR_OPTION, DB_URL_OPTION, USER_OPTION, open_store
from overt.retention import purge


def register(app: typer.Typer) -> None:
    @app.command("purge")
    def purge_cmd(
        dry_run: bool = typer.Option(False, "--dry-run", help="Only list what would be deleted."),
        data_dir_: Path | None = DATA_DIR_OPTION,
        database_url: str | None = DB_URL_OPTION,
        user: str | None = USER_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Apply retention: alerts past their period are deleted (audited); run it from cron."""
        store, d = open_store(data_dir_, database_url)
        actor = "system"
        if user:
            from overt.cli._gov import acting_user
            from overt.domain.users import Permission

            u = acting_user(store, user)
            u.require(Permission.MAINTAIN)
            actor = u.name
        r = purge(store, actor, dry_run=dry_run, spool_folder=spool_dir(d))
        if as_json:
            print_json(
                {
                    "dry_run": r.dry_run,
                    "alerts": list(r.alerts),
                    "snapshots_destroyed": list(r.snapshots_destroyed),
                    "deployments_stopped": list(r.deployments_stopped),
                    "spooled_alerts_dropped": r.spooled_dropped,
                    "seconds": round(r.seconds, 4),
                }
            )
        else:
            verb = "would delete" if dry_run else "deleted"
            out_console().print(
                f"{verb} {len(r.alerts)} alerts; snapshots destroyed {list(r.snapshots_destroyed)}; "
                f"deployments stopped {list(r.deployments_stopped)}"
            )
