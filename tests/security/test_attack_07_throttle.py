"""Attack 7: throttling per (user, address) let four loopback addresses guess 5 times each, behind a
TLS proxy anyone locked any user out for 15 minutes, failed logins had no source address, and
16,000 anonymous ``GET /api/v1/auth/csrf`` evicted a real user's pre-login session.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from overt.api.sessions import SessionStore
from overt.domain.users import Role, User
from overt.users.throttle import LoginThrottle
from tests.api.conftest import PASSWORDS, Running, start_server
from tests.security.conftest import audit

PROXY = "127.0.0.1"


@pytest.fixture(scope="module")
def behind_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """A server behind a (trusted) TLS proxy on loopback: X-Forwarded-For names the client."""
    r = start_server(
        tmp_path_factory.mktemp("proxy") / "data",
        trusted_proxies=(PROXY,),
        login_free_failures=3,
        login_backoff_s=30.0,
        login_backoff_max_s=60.0,
        login_address_max_failures=10,
    )
    yield r
    r.server.stop()
    r.store.db.dispose()


def _login(c: httpx.Client, name: str, password: str, client_ip: str) -> httpx.Response:
    h = {"X-Forwarded-For": client_ip}
    csrf = c.get("/api/v1/auth/csrf", headers=h).json()["csrf_token"]
    return c.post(
        "/api/v1/auth/login",
        json={"username": name, "password": password},
        headers={**h, "X-CSRF-Token": csrf},
    )


def test_many_addresses_share_one_accounts_budget(behind_proxy: Running) -> None:
    codes = []
    with behind_proxy.client() as c:
        for i in range(8):  # the attack: rotate source addresses
            codes.append(_login(c, "op2", "guess-guess-guess", f"198.51.100.{i + 1}").status_code)
    assert codes[:3] == [401, 401, 401]
    assert set(codes[3:]) == {429}  # the account is slowed down whatever the address


def test_the_owner_is_not_locked_out_from_their_usual_address(behind_proxy: Running) -> None:
    with behind_proxy.client() as c:
        assert _login(c, "op", PASSWORDS["op"], "203.0.113.7").status_code == 200  # the owner's desk
    with behind_proxy.client() as attacker:
        for _ in range(6):
            _login(attacker, "op", "guess-guess-guess", "198.51.100.66")
        assert _login(attacker, "op", PASSWORDS["op"], "198.51.100.66").status_code == 429
    with behind_proxy.client() as c:
        assert _login(c, "op", PASSWORDS["op"], "203.0.113.7").status_code == 200  # still gets in


def test_the_delay_is_never_a_long_lock_out(behind_proxy: Running) -> None:
    with behind_proxy.client() as c:
        r = None
        for _ in range(12):
            r = _login(c, "aud", "guess-guess-guess", "198.51.100.99")
        assert r is not None
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) <= 60


def test_failed_logins_are_audited_with_the_source_address(behind_proxy: Running) -> None:
    with behind_proxy.client() as c:
        assert _login(c, "officer", "not-the-password", "192.0.2.44").status_code == 401
    e = [e for e in audit(behind_proxy) if e.action == "auth.failed" and e.actor == "officer"][-1]
    assert e.details["source"] == "192.0.2.44"
    ok = [e for e in audit(behind_proxy) if e.action == "auth.login"][-1]
    assert "source" in ok.details


def test_forwarded_for_is_ignored_from_untrusted_peers(running: Running) -> None:
    """Without trusted proxies, X-Forwarded-For cannot fake a fresh address for each guess."""
    with running.client() as c:
        for i in range(12):
            _login(c, "officer2", "guess-guess-guess", f"198.51.100.{i + 1}")
    e = [e for e in audit(running) if e.action == "auth.failed" and e.actor == "officer2"][-1]
    assert e.details["source"] == "127.0.0.1"


def test_per_address_limit_covers_every_account() -> None:
    t = LoginThrottle(address_max_failures=5, clock=lambda: 0.0)
    for i in range(5):
        assert t.retry_after_s(f"user{i}", "198.51.100.1") == 0
        t.failed(f"user{i}", "198.51.100.1")
    assert t.retry_after_s("user99", "198.51.100.1") > 0  # spraying from one address stops
    assert t.retry_after_s("user99", "198.51.100.2") == 0  # other addresses are not affected


def test_anonymous_flood_never_evicts_real_sessions() -> None:
    store = SessionStore(max_anonymous=100, max_anonymous_per_address=10, max_sessions=10)
    user = User(1, "op", Role.OPERATOR, created_at=__import__("datetime").datetime.now())
    real_sid, _ = store.new(user)
    pre_sid, _ = store.new(address="203.0.113.7")  # a real user's login page
    for _ in range(16_000):  # the attack, from one address
        store.new(address="198.51.100.1")
    assert store.get(real_sid) is not None
    assert store.get(pre_sid) is not None
    for i in range(200):  # from many addresses: anonymous sessions only evict anonymous ones
        store.new(address=f"198.51.100.{i % 250}")
    assert store.get(real_sid) is not None
    assert store.count()[1] <= 100


def test_csrf_flood_over_http_does_not_break_a_login(behind_proxy: Running) -> None:
    victim_ip, attacker_ip = {"X-Forwarded-For": "203.0.113.9"}, {"X-Forwarded-For": "198.51.100.200"}
    with behind_proxy.client() as victim:
        csrf = victim.get("/api/v1/auth/csrf", headers=victim_ip).json()["csrf_token"]
        with behind_proxy.client() as attacker:
            for _ in range(300):
                attacker.cookies.clear()
                attacker.get("/api/v1/auth/csrf", headers=attacker_ip)
        r = victim.post(
            "/api/v1/auth/login",
            json={"username": "wm", "password": PASSWORDS["wm"]},
            headers={**victim_ip, "X-CSRF-Token": csrf},
        )
        assert r.status_code == 200
    assert behind_proxy.server.app.state.auth.sessions.count()[1] <= 5_000
