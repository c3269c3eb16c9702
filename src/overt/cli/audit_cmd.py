"""``overt audit verify|show|anchor``: the keyed, hash-chained audit log."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from overt.audit.anchor import make_anchor, post_anchor, read_anchor, write_anchor
from overt.audit.crosscheck import verify_all
from overt.audit.log import AuditLog
from overt.cli._common import JSON_OPTION, out_console, print_json
from overt.cli._gov import DATA_DIR_OPTION, DB_URL_OPTION, USER_OPTION, acting_user, open_store
from overt.domain.users import Permission
from overt.errors import AuditIntegrityError

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@app.command("verify")
def verify_cmd(
    anchor: Path | None = typer.Option(
        None, "--anchor", help="An anchor file from `overt audit anchor`: the log must still hold that head."
    ),
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Recompute the hash chain and its MACs, check an anchor, cross-check the governance tables;
    exit 9 and name each edited, forged, deleted or reordered entry and each disagreement."""
    anchored = read_anchor(anchor) if anchor is not None else None
    store, _ = open_store(data_dir_, database_url)
    with store.db.session() as s:
        report = verify_all(s, AuditLog(s, store.clock), anchor=anchored)
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


@app.command("anchor")
def anchor_cmd(
    out: Path | None = typer.Option(None, "--out", help="Write the anchor to this file (default: stdout)."),
    webhook: str | None = typer.Option(None, "--webhook", help="POST the anchor as JSON to this http(s) URL."),
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
) -> None:
    """Publish the head of the log (seq and hash) outside the database; check it later with
    `overt audit verify --anchor FILE`. Keep anchors where the database's admins cannot edit them."""
    store, _ = open_store(data_dir_, database_url)
    with store.db.session() as s:
        anchor = make_anchor(AuditLog(s, store.clock), store.clock.now())
    if webhook is not None:
        post_anchor(anchor, webhook)
    if out is not None:
        write_anchor(anchor, out)
    if out is None and webhook is None:
        print_json(anchor.to_json())
    else:
        out_console().print(f"anchored entry {anchor.seq}, hash {anchor.hash[:16]}")
