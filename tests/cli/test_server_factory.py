"""``overt serve`` and ``overt run`` build their server through the one factory (``overt.api.server``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from overt.api import server
from overt.cli.app import main
from overt.samples import sample_image


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[uvicorn.Config]:
    monkeypatch.setenv("OVERT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OVERT_PASSWORD", "admin-password")
    assert main(["init", "--admin", "admin", "--json"]) == 0
    configs: list[uvicorn.Config] = []
    real = server.build_server

    def spy(*args: object, **kwargs: object) -> uvicorn.Server:
        s = real(*args, **kwargs)  # type: ignore[arg-type]
        configs.append(s.config)
        return s

    monkeypatch.setattr(server, "build_server", spy)
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)  # built, not started
    return configs


def _check(config: uvicorn.Config, port: int) -> None:
    assert config.port == port
    assert config.proxy_headers is False  # X-Forwarded-For is never trusted
    assert config.server_header is False
    assert config.ws == "websockets-sansio"


def test_serve_and_run_share_the_server_factory(built: list[uvicorn.Config]) -> None:
    assert main(["serve", "--port", "8123", "--json"]) == 0
    src = str(sample_image("yaoming"))
    assert main(["run", "--deployment", "1", "--source", src, "--port", "8124", "--json"]) == 0
    assert len(built) == 2
    _check(built[0], 8123)
    _check(built[1], 8124)
    # same middleware stack: both apps come from create_app through server.build_app
    apps = [c.app for c in built]
    assert all(isinstance(a, FastAPI) for a in apps)
    stacks = [[m.cls.__name__ for m in a.user_middleware] for a in apps if isinstance(a, FastAPI)]  # type: ignore[attr-defined]
    assert stacks[0] == stacks[1]
    assert "SecurityHeaders" in stacks[0]


def test_run_refuses_insecure_cookies_off_loopback_like_serve(built: list[uvicorn.Config]) -> None:
    src = str(sample_image("yaoming"))
    for args in (
        ["serve", "--host", "0.0.0.0", "--insecure-cookies"],
        ["run", "--deployment", "1", "--source", src, "--host", "0.0.0.0", "--insecure-cookies"],
    ):
        assert main(args) != 0
    assert built == []
