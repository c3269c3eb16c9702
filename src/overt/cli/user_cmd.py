"""``overt user add|list``: local accounts with roles."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from overt.cli._common import JSON_OPTION, out_console, print_json
from overt.cli._gov import DATA_DIR_OPTION, DB_URL_OPTION, USER_OPTION, acting_user, iso, open_store, read_password
from overt.domain.users import parse_role
from overt.users import UserService

app = typer.Typer(help="Local user accounts.", no_args_is_help=True)


@app.command("add")
def add_cmd(
    name: str = typer.Argument(..., help="New user's name."),
    role: str = typer.Option(..., "--role", help="admin, authorising_officer, watchlist_manager, operator or auditor."),
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a user (their password: $OVERT_NEW_PASSWORD or a prompt)."""
    r = parse_role(role)
    store, _ = open_store(data_dir_, database_url)
    actor = acting_user(store, user)
    password = read_password("OVERT_NEW_PASSWORD", prompt=f"Password for {name}", confirm=True)
    u = UserService(store).add(actor, name, r, password)
    if as_json:
        print_json({"id": u.id, "name": u.name, "role": u.role.value})
    else:
        out_console().print(f"user {u.name} added ({u.role.value})")


@app.command("list")
def list_cmd(
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """List users and their roles."""
    store, _ = open_store(data_dir_, database_url)
    users = UserService(store).find(acting_user(store, user))
    rows = [{"id": u.id, "name": u.name, "role": u.role.value, "created_at": iso(u.created_at)} for u in users]
    if as_json:
        print_json(rows)
        return
    t = Table("id", "name", "role", "created")
    for r in rows:
        t.add_row(str(r["id"]), str(r["name"]), str(r["role"]), str(r["created_at"]))
    out_console().print(t)
