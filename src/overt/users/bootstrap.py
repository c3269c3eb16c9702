"""``overt init`` as one step: a data directory with its key, database and first admin, or nothing.

The admin's name and password are checked before anything is written; if any later step fails
(a missing passphrase, a database error), every file this attempt created is removed again, so a
retry starts clean instead of finding an "already initialised" half-made directory. (A database
given by URL keeps the tables the attempt created; a retry migrates them idempotently.)
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Literal

from overt.domain.users import User, validate_user_name
from overt.store.datadir import init_data_dir
from overt.store.store import Store
from overt.users.service import MIN_PASSWORD_LEN, UserService

KeySource = Literal["file", "env", "passphrase"]


def check_first_admin(name: str, password: str) -> None:
    """Refuse a bad first admin before anything is written."""
    from overt.errors import InputError

    validate_user_name(name)
    if len(password) < MIN_PASSWORD_LEN:
        raise InputError(f"password must be at least {MIN_PASSWORD_LEN} characters")


def initialise(
    data_dir: Path,
    admin: str,
    password: str,
    *,
    key_source: KeySource = "file",
    database_url: str | None = None,
    key_var: str | None = None,
) -> tuple[Store, User]:
    """All of it, or nothing left behind."""
    check_first_admin(admin, password)
    existed = data_dir.exists()
    before = set(data_dir.iterdir()) if existed else set()
    store: Store | None = None
    try:
        store = init_data_dir(data_dir, key_source=key_source, database_url_=database_url, key_var=key_var)
        return store, UserService(store).create_first_admin(admin, password)
    except BaseException:
        if store is not None:
            with contextlib.suppress(Exception):
                store.db.dispose()
        _undo(data_dir, existed, before)
        raise


def _undo(data_dir: Path, existed: bool, before: set[Path]) -> None:
    if not existed:
        shutil.rmtree(data_dir, ignore_errors=True)
        return
    for p in set(data_dir.iterdir()) - before:
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
