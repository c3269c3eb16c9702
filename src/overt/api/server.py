"""The one server factory: ``overt serve``, ``overt run`` and ``ServerThread`` build their server here.

Same application, same middleware, same proxy trust everywhere: uvicorn does NOT take the client
address from ``X-Forwarded-For``/``X-Forwarded-Proto`` (a client could otherwise pick the address
its login throttling and audit entries are keyed on). The CLI imports only this module of the API.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from overt.api.app import create_app
from overt.api.settings import ApiSettings
from overt.errors import ConfigError
from overt.store.store import Store

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def build_app(
    store: Store,
    data_dir: Path | None,
    *,
    host: str,
    insecure_cookies: bool = False,
    second_person: bool = False,
    trusted_proxies: tuple[str, ...] = (),
    engine_factory: Callable[[], Any] | None = None,
) -> FastAPI:
    """The application for a server listening on ``host`` (``overt serve`` and ``overt run`` alike,
    so their cookies, second-person rule and trusted proxies cannot differ)."""
    if insecure_cookies and host not in LOOPBACK:
        raise ConfigError("--insecure-cookies is only allowed on a loopback address")
    try:
        settings = ApiSettings(
            data_dir=data_dir,
            secure_cookies=not insecure_cookies,
            second_person_confirmation=second_person,
            trusted_proxies=trusted_proxies,
        )
    except ValueError as exc:
        raise ConfigError(f"invalid server settings: {exc}") from None
    return create_app(settings, store=store, engine_factory=engine_factory)


def server_config(app: FastAPI, host: str, port: int) -> uvicorn.Config:
    """uvicorn's settings for every Overt server."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        ws="websockets-sansio",
        proxy_headers=False,
        server_header=False,
    )


def build_server(app: FastAPI, host: str, port: int) -> uvicorn.Server:
    return uvicorn.Server(server_config(app, host, port))


def serve(app: FastAPI, host: str, port: int) -> None:
    """Serve until Ctrl-C / SIGTERM."""
    build_server(app, host, port).run()
