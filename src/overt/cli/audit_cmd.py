"""``overt audit verify|show``: the hash-chained audit log."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from overt.audit.log import AuditLog
from overt.cli._common import JSON_OPTION, out_console, print_json
from overt.cli._gov import DATA_DIR_OPTION, DB_URL_OPTION, USER_OPTION, acting_user, open_store
from overt.domain.users import Permission
from overt.errors import AuditIntegrityError

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@app.command("verify")
def verify_cmd(
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Recompute the hash chain; exit 9 and name each edited, deleted or reordered entry."""
    store, _ = open_store(data_dir_, database_url)
    with store.db.session() as s:
        report = AuditLog(s, store.clock).verify()
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "entries": report.entries,
                "head_hash": report.head_hash,
                "problems": [{"entry": p.seq, "kind": p.kind, "message": p.message} for p in report.problems],
            }
        )
    else:
        c = out_console()
        for p in report.problems:
            c.print(f"[red]{p.message}[/red]")
        if report.ok:
            c.print(f"audit log OK: {report.entries} entries, head {report.head_hash[:16]}")
    if not report.ok:
        raise AuditIntegrityError(f"audit log does not verify: {len(report.problems)} problem(s)")


@app.command("show")
def show_cmd(
    limit: int = typer.Option(50, "--limit", help="The last N entries."),
    action: str | None = typer.Option(None, "--action", help="Only this action (e.g. deployment.authorised)."),
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show audit entries (admins and auditors)."""
    store, _ = open_store(data_dir_, database_url)
    actor = acting_user(store, user)
    actor.require(Permission.VIEW_AUDIT)
    with store.transaction() as tx:
        entries = tx.audit.entries(action=action, limit=limit)
        tx.audit.append(actor.name, "audit.viewed", "audit", {"entries": len(entries)})
    if as_json:
        print_json([e.as_dict() for e in entries])
        return
    t = Table("#", "at", "actor", "action", "target", "details")
    for e in entries:
        t.add_row(
            str(e.seq), e.at[:19], e.actor, e.action, e.target, ", ".join(f"{k}={v}" for k, v in e.details.items())
        )
    out_console().print(t)
