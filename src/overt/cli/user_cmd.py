"""``overt user add|list|disable [--enable]|role|reset|passwd``: local accounts and their lifecycle.

Rules live in :class:`overt.users.UserService`; every change is audited.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from overt.cli._common import JSON_OPTION, out_console, print_json
from overt.cli._gov import DATA_DIR_OPTION, DB_URL_OPTION, USER_OPTION, acting_user, iso, open_store, read_password
from overt.domain.users import User, parse_role
from overt.errors import ConfigError
from overt.users import UserService

app = typer.Typer(help="Local user accounts.", no_args_is_help=True)


@app.command("add")
def add_cmd(
    name: str = typer.Argument(..., help="New user's name."),
    role: str = typer.Option(..., "--role", help="admin, authorising_officer, watchlist_manager, operator or auditor."),
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    user: str | None = USER_OPTION,
    must_change: bool = typer.Option(
        False, "--must-change", help="The user must change this password at their first login."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a user (their password: $OVERT_NEW_PASSWORD or a prompt; >= 12 characters, not common)."""
    r = parse_role(role)
    store, _ = open_store(data_dir_, database_url)
    actor = acting_user(store, user)
    password = read_password("OVERT_NEW_PASSWORD", prompt=f"Password for {name}", confirm=True)
    u = UserService(store).add(actor, name, r, password, must_change_password=must_change)
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
    rows = [
        {
            "id": u.id,
            "name": u.name,
            "role": u.role.value,
            "created_at": iso(u.created_at),
            "disabled": u.disabled,
            "must_change_password": u.must_change_password,
        }
        for u in users
    ]
    if as_json:
        print_json(rows)
        return
    t = Table("id", "name", "role", "created", "state")
    for r in rows:
        state = "disabled" if r["disabled"] else ("must change password" if r["must_change_password"] else "active")
        t.add_row(str(r["id"]), str(r["name"]), str(r["role"]), str(r["created_at"]), state)
    out_console().print(t)


def _done(as_json: bool, u: User, what: str) -> None:
    if as_json:
        print_json(
            {
                "id": u.id,
                "name": u.name,
                "role": u.role.value,
                "disabled": u.disabled,
                "must_change_password": u.must_change_password,
            }
        )
    else:
        out_console().print(f"user {u.name} {what}")


NAME_ARG = typer.Argument(..., help="The user's name.")


@app.command("disable")
def disable_cmd(
    name: str = NAME_ARG,
    enable: bool = typer.Option(False, "--enable", help="Enable a disabled account again instead."),
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Disable an account (its sessions end and its API tokens are revoked at once), or --enable it."""
    store, _ = open_store(data_dir_, database_url)
    svc, actor = UserService(store), acting_user(store, user)
    if enable:
        _done(as_json, svc.enable(actor, name), "enabled")
    else:
        _done(as_json, svc.disable(actor, name), "disabled")


@app.command("role")
def role_cmd(
    name: str = NAME_ARG,
    role: str = typer.Argument(..., help="The new role."),
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Change another user's role (never your own)."""
    r = parse_role(role)
    store, _ = open_store(data_dir_, database_url)
    u = UserService(store).set_role(acting_user(store, user), name, r)
    _done(as_json, u, f"is now {u.role.value}")


@app.command("reset")
def reset_cmd(
    name: str = NAME_ARG,
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Set a temporary password ($OVERT_NEW_PASSWORD or a prompt); the user must change it at next login."""
    store, _ = open_store(data_dir_, database_url)
    actor = acting_user(store, user)
    temporary = read_password("OVERT_NEW_PASSWORD", prompt=f"Temporary password for {name}", confirm=True)
    _done(as_json, UserService(store).reset_password(actor, name, temporary), "must change the password at next login")


@app.command("passwd")
def passwd_cmd(
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Change your own password (old: $OVERT_PASSWORD or a prompt; new: $OVERT_NEW_PASSWORD or a prompt)."""
    if not user:
        raise ConfigError("whose password? give --user NAME (or set OVERT_USER)")
    store, _ = open_store(data_dir_, database_url)
    old = read_password(prompt="Current password")
    new = read_password("OVERT_NEW_PASSWORD", prompt="New password", confirm=True)
    _done(as_json, UserService(store).change_password(user, old, new), "changed their password")
