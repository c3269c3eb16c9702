"""``overt serve``: the API and web console on uvicorn, over a data directory."""

from __future__ import annotations

from pathlib import Path

import typer

from overt.cli._common import JSON_OPTION, err_console, print_json
from overt.cli._gov import DATA_DIR_OPTION, DB_URL_OPTION, open_store

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
    from overt.api import server

    store, d = open_store(data_dir, database_url)
    app = server.build_app(
        store,
        d,
        host=host,
        insecure_cookies=insecure_cookies,
        second_person=second_person,
        trusted_proxies=tuple(trusted_proxies or ()),
    )
    url = f"http://{host}:{port}"
    if as_json:
        print_json({"url": url, "data_dir": str(d)})
    else:
        err_console().print(f"Overt console on [bold]{url}[/] (Ctrl-C stops)")
    server.serve(app, host, port)


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
