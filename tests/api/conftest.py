"""A real Overt server (uvicorn on a free loopback port) over a fresh data directory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from overt.api.app import create_app
from overt.api.settings import ApiSettings
from overt.api.testing import ServerThread
from overt.domain.users import Role
from overt.store.datadir import init_data_dir
from overt.store.store import Store
from overt.users.service import UserService

PASSWORDS = {
    "admin": "admin-password",
    "officer": "officer-password",
    "officer2": "officer2-password",
    "op": "op-pass-phrase",
    "op2": "op2-pass-phrase",
    "wm": "wm-pass-phrase",
    "aud": "aud-pass-phrase",
}
ROLE_USER = {
    "admin": "admin",
    "authorising_officer": "officer",
    "watchlist_manager": "wm",
    "operator": "op",
    "auditor": "aud",
}


@dataclass
class Running:
    url: str
    store: Store
    data_dir: Path
    server: ServerThread

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30.0)

    def login(self, name: str, password: str | None = None) -> httpx.Client:
        c = self.client()
        csrf = c.get("/api/v1/auth/csrf").json()["csrf_token"]
        r = c.post(
            "/api/v1/auth/login",
            json={"username": name, "password": password or PASSWORDS[name]},
            headers={"X-CSRF-Token": csrf},
        )
        r.raise_for_status()
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return c


def make_users(store: Store) -> None:
    svc = UserService(store)
    admin = svc.create_first_admin("admin", PASSWORDS["admin"])
    for name, role in [
        ("officer", Role.AUTHORISING_OFFICER),
        ("officer2", Role.AUTHORISING_OFFICER),
        ("op", Role.OPERATOR),
        ("op2", Role.OPERATOR),
        ("wm", Role.WATCHLIST_MANAGER),
        ("aud", Role.AUDITOR),
    ]:
        svc.add(admin, name, role, PASSWORDS[name])


def start_server(data_dir: Path, **settings: object) -> Running:
    store = init_data_dir(data_dir)
    make_users(store)
    app = create_app(
        ApiSettings(data_dir=data_dir, secure_cookies=False, alert_poll_s=0.1, **settings),
        store=store,
    )
    server = ServerThread(app).start()
    return Running(server.url, store, data_dir, server)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    r = start_server(tmp_path_factory.mktemp("api") / "data", login_free_failures=3, login_backoff_s=60.0)
    yield r
    r.server.stop()
    r.store.db.dispose()
