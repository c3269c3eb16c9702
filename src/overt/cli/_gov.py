"""Shared plumbing of the governance commands: data directory, store, acting user.

The acting user: ``--user NAME`` (or ``$OVERT_USER``); the password from ``$OVERT_PASSWORD`` or a
hidden prompt. Each command authenticates afresh (no session files), and every failed login is
audited. A second person authorising means a second account with its own password.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

import typer

from overt.config import default_data_dir
from overt.domain.users import User
from overt.errors import AuthError, ConfigError
from overt.store.datadir import open_data_dir
from overt.store.store import Store
from overt.users import UserService

DATA_DIR_OPTION = typer.Option(
    None, "--data-dir", help="Data directory (default: $OVERT_DATA_DIR, else ~/.local/share/overt)."
)
DB_URL_OPTION = typer.Option(
    None, "--database-url", envvar="OVERT_DATABASE_URL", help="Override the database (e.g. postgresql+psycopg://...)."
)
USER_OPTION = typer.Option(
    None, "--user", envvar="OVERT_USER", help="Acting user; password from $OVERT_PASSWORD or a prompt."
)


def data_dir(value: Path | None) -> Path:
    return value if value is not None else default_data_dir()


def open_store(data_dir_: Path | None, database_url: str | None) -> tuple[Store, Path]:
    """Open the data directory (warnings about file modes go to stderr through logging)."""
    d = data_dir(data_dir_)
    return open_data_dir(d, database_url_=database_url), d


def read_password(env: str = "OVERT_PASSWORD", prompt: str = "Password", confirm: bool = False) -> str:
    """``$env``, else a hidden prompt on a terminal, else one line from standard input (a pipe:
    no getpass fallback, so no GetPassWarning and nothing echoed)."""
    value = os.environ.get(env)
    if value:
        return value
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise ConfigError(f"no password: set ${env} or give it on standard input")
        return line
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True))


def acting_user(store: Store, name: str | None, *, password_change: bool = False) -> User:
    if not name:
        raise ConfigError("who is acting? give --user NAME (or set OVERT_USER)")
    user = UserService(store).authenticate(name, read_password())
    if user.must_change_password and not password_change:
        raise AuthError(
            f"the password of {user.name} was reset: change it first (overt user passwd --user {user.name})"
        )
    return user


def iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.isoformat()
