"""``overt init``: create a data directory, its key, its database and the first admin."""

from __future__ import annotations

from pathlib import Path

import typer

from overt.cli._common import JSON_OPTION, out_console, print_json
from overt.cli._gov import DATA_DIR_OPTION, DB_URL_OPTION, data_dir, read_password
from overt.errors import ConfigError
from overt.users.bootstrap import check_first_admin, initialise


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init_cmd(
        admin: str = typer.Option(..., "--admin", help="Name of the first admin (password: $OVERT_PASSWORD/prompt)."),
        key_source: str = typer.Option(
            "file", "--key-source", help="Key-encryption key: 'file' (0600 key file), 'env' or 'passphrase'."
        ),
        key_var: str | None = typer.Option(
            None, "--key-var", help="Env var of the key (env: OVERT_KEK) or passphrase (OVERT_PASSPHRASE)."
        ),
        data_dir_: Path | None = DATA_DIR_OPTION,
        database_url: str | None = DB_URL_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Create the data directory (0700) with a key, the database and the first admin user."""
        if key_source not in ("file", "env", "passphrase"):
            raise ConfigError("--key-source must be file, env or passphrase")
        d = data_dir(data_dir_)
        password = read_password(prompt=f"Password for {admin}", confirm=True)
        check_first_admin(admin, password)  # before anything is written
        store, user = initialise(
            d,
            admin,
            password,
            key_source=key_source,  # type: ignore[arg-type]
            database_url=database_url,
            key_var=key_var,
        )
        result = {
            "data_dir": str(d),
            "database": store.db.safe_url,
            "key_source": key_source,
            "admin": user.name,
        }
        if as_json:
            print_json(result)
        else:
            out_console().print(f"initialised {d} (database {store.db.safe_url}, key from {store.keys.description})")
