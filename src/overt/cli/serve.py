"""``overt serve``: the API and web console on uvicorn, over a data directory."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from overt.cli._common import JSON_OPTION, err_console, print_json
from overt.cli._gov import DATA_DIR_OPTION, DB_URL_OPTION, open_store
from overt.errors import ConfigError

if TYPE_CHECKING:
    from overt.api.settings import ApiSettings

HOST_OPTION = typer.Option("127.0.0.1", "--host", help="Address to listen on (use 0.0.0.0 behind a TLS proxy).")
PORT_OPTION = typer.Option(8000, "--port", min=1, max=65535, help="TCP port.")
INSECURE_OPTION = typer.Option(
    False,
    "--insecure-cookies",
    help="Send the session cookie over plain HTTP (localhost only; use HTTPS everywhere else).",
)
SECOND_OPTION = typer.Option(
    False, "--second-person", help="A confirmed match counts only once a second operator confirms it."
)
TRUSTED_PROXY_OPTION = typer.Option(
    [],
    "--trusted-proxy",
    envvar="OVERT_TRUSTED_PROXIES",
    help="Address or network of a reverse proxy whose X-Forwarded-For/-Proto are believed (repeat; none by default).",
)
UVICORN_OPTIONS: dict[str, Any] = {"log_level": "warning", "ws": "websockets-sansio", "proxy_headers": False}
"""The same for ``serve`` and ``run``: uvicorn never rewrites the client address; Overt reads
X-Forwarded-For itself, and only from the trusted proxies."""


def server_settings(
    data_dir: Path, *, host: str, insecure_cookies: bool, second_person: bool, trusted_proxies: list[str]
) -> ApiSettings:
    """The API settings of ``overt serve`` and ``overt run`` (one place, so they cannot differ)."""
    from overt.api.settings import ApiSettings

    if insecure_cookies and host not in ("127.0.0.1", "localhost", "::1"):
        raise ConfigError("--insecure-cookies is only allowed on a loopback address")
    try:
        return ApiSettings(
            data_dir=data_dir,
            secure_cookies=not insecure_cookies,
            second_person_confirmation=second_person,
            trusted_proxies=tuple(trusted_proxies),
        )
    except ValueError as exc:
        raise ConfigError(f"invalid server settings: {exc}") from None


def serve(
    data_dir: Path | None,
    database_url: str | None,
    host: str,
    port: int,
    insecure_cookies: bool,
    second_person: bool,
    as_json: bool,
    trusted_proxies: list[str] | None = None,
) -> None:
    import uvicorn

    from overt.api.app import create_app

    store, d = open_store(data_dir, database_url)
    settings = server_settings(
        d,
        host=host,
        insecure_cookies=insecure_cookies,
        second_person=second_person,
        trusted_proxies=trusted_proxies or [],
    )
    app = create_app(settings, store=store)
    url = f"http://{host}:{port}"
    if as_json:
        print_json({"url": url, "data_dir": str(d)})
    else:
        err_console().print(f"Overt console on [bold]{url}[/] (Ctrl-C stops)")
    uvicorn.run(app, host=host, port=port, **UVICORN_OPTIONS)


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve_cmd(
        data_dir: Path | None = DATA_DIR_OPTION,
        database_url: str | None = DB_URL_OPTION,
        host: str = HOST_OPTION,
        port: int = PORT_OPTION,
        insecure_cookies: bool = INSECURE_OPTION,
        second_person: bool = SECOND_OPTION,
        trusted_proxy: list[str] = TRUSTED_PROXY_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Serve the REST API, the alert WebSocket and the operator console."""
        serve(data_dir, database_url, host, port, insecure_cookies, second_person, as_json, trusted_proxy)
