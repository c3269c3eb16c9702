"""Attacks on a centre of several API processes that in-memory session state allowed.

With sessions in each process's memory, behind a load balancer: a logout (or a stolen cookie's
owner logging out) ended the session on one process only. Now sessions and their CSRF tokens live
in the shared database (two apps on one PostgreSQL stand in for two processes)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from overt.api.app import create_app
from overt.api.security import SESSION_COOKIE
from overt.api.settings import ApiSettings
from overt.api.testing import ServerThread
from overt.store.datadir import init_data_dir, open_data_dir
from tests.api.conftest import PASSWORDS, make_users

pytestmark = pytest.mark.postgres


@pytest.fixture
def two_processes(postgres_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    store = init_data_dir(tmp_path / "data", database_url_=postgres_url)
    make_users(store)
    other = open_data_dir(tmp_path / "data")
    settings = ApiSettings(secure_cookies=False)
    servers = [ServerThread(create_app(settings, store=s)).start() for s in (store, other)]
    try:
        yield servers[0].url, servers[1].url
    finally:
        for srv in servers:
            srv.stop()
        other.db.dispose()
        store.db.dispose()


def _csrf(c: httpx.Client) -> str:
    return str(c.get("/api/v1/auth/csrf").json()["csrf_token"])


def test_logout_on_one_process_ends_the_session_on_every_process(two_processes: tuple[str, str]) -> None:
    a, b = two_processes
    with httpx.Client(base_url=a) as c:
        r = c.post(
            "/api/v1/auth/login",
            json={"username": "op", "password": PASSWORDS["op"]},
            headers={"X-CSRF-Token": _csrf(c)},
        )
        assert r.status_code == 200
        sid, token = c.cookies[SESSION_COOKIE], r.json()["csrf_token"]
    with httpx.Client(base_url=b, cookies={SESSION_COOKIE: sid}) as on_b:
        assert on_b.get("/api/v1/auth/me").status_code == 200
        # a wrong CSRF token is refused by the other process too (it knows the session's token)
        assert on_b.post("/api/v1/auth/logout", headers={"X-CSRF-Token": "forged"}).status_code == 403
        assert on_b.post("/api/v1/auth/logout", headers={"X-CSRF-Token": token}).status_code == 204
    with httpx.Client(base_url=a, cookies={SESSION_COOKIE: sid}) as on_a:
        assert on_a.get("/api/v1/auth/me").status_code == 401
