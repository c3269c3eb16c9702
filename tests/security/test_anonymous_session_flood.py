"""An attack on the login form of a centre with sessions in the database.

The database sessions capped anonymous (pre-login, CSRF-carrying) sessions in all only: one client
address opening the login page over and over filled the table, and the housekeeping then dropped
the least recently seen half of ALL anonymous sessions, so an operator elsewhere who had the login
page open got "missing or wrong CSRF token". Now each address may hold a few anonymous sessions;
its flood evicts its own oldest ones, never another address's. The address (as resolved behind the
trusted proxies) is stored only as a keyed digest.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from overt.api.db_sessions import DbSessionStore
from overt.store import Store
from overt.store.models import WebSessionRow
from tests.api.conftest import PASSWORDS, Running, start_server

ATTACKER, VICTIM = "203.0.113.9", "198.51.100.7"


def test_one_address_flooding_evicts_only_its_own_anonymous_sessions(store: Store) -> None:
    sessions = DbSessionStore(store, max_anonymous=50, max_anonymous_per_address=5)
    victim_sid, victim = sessions.new(address=VICTIM)
    for _ in range(400):  # far past the global cap: the housekeeping ran several times
        sessions.new(address=ATTACKER)
    kept = sessions.get(victim_sid)
    assert kept is not None
    assert kept.csrf == victim.csrf
    with store.db.session() as s:
        attacker_rows = s.scalar(
            select(WebSessionRow.id_hash).where(WebSessionRow.address_key == sessions.address_key(ATTACKER)).limit(1)
        )
        keys = set(s.scalars(select(WebSessionRow.address_key)))
    assert attacker_rows is not None
    assert len(keys) == 2  # the two addresses, each as its digest
    assert not any(ATTACKER in (k or "") or VICTIM in (k or "") for k in keys)
    assert sessions.count()[1] <= 5 + 1


@pytest.fixture(scope="module")
def behind_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    r = start_server(
        Path(tmp_path_factory.mktemp("flood")) / "data", shared_sessions=True, trusted_proxies=("127.0.0.1",)
    )
    yield r
    r.server.stop()
    r.store.db.dispose()


def test_a_flood_from_one_address_cannot_deny_anothers_login(behind_proxy: Running) -> None:
    victim = behind_proxy.client()
    victim.headers["X-Forwarded-For"] = VICTIM
    csrf = victim.get("/api/v1/auth/csrf").json()["csrf_token"]  # the login page is open
    with behind_proxy.client() as attacker:
        attacker.headers["X-Forwarded-For"] = ATTACKER
        for _ in range(150):
            attacker.cookies.clear()
            assert attacker.get("/api/v1/auth/csrf").status_code == 200
    r = victim.post(
        "/api/v1/auth/login", json={"username": "op", "password": PASSWORDS["op"]}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 200, r.text
    victim.close()
    with behind_proxy.store.db.session() as s:
        anonymous = list(s.scalars(select(WebSessionRow.address_key).where(WebSessionRow.user_name.is_(None))))
    assert len(anonymous) <= 32  # the attacker's own cap (the victim's became a login)
