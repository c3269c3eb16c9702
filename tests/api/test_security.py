"""Sessions, CSRF, login rate limit, API tokens (expired, revoked), security headers."""

from __future__ import annotations

from datetime import timedelta

import httpx

from overt.api.security import SESSION_COOKIE
from overt.store.repositories import ApiTokenRepository
from tests.api.conftest import PASSWORDS, Running


def _csrf(c: httpx.Client) -> str:
    return str(c.get("/api/v1/auth/csrf").json()["csrf_token"])


def test_login_needs_the_pre_login_csrf_token(running: Running) -> None:
    with running.client() as c:
        body = {"username": "op", "password": PASSWORDS["op"]}
        assert c.post("/api/v1/auth/login", json=body).status_code == 403
        _csrf(c)
        assert c.post("/api/v1/auth/login", json=body, headers={"X-CSRF-Token": "wrong"}).status_code == 403


def test_session_cookie_flags(running: Running) -> None:
    with running.client() as c:
        r = c.get("/api/v1/auth/csrf")
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=strict" in cookie
        assert "secure" not in cookie  # this test server runs with secure_cookies=False (plain HTTP)


def test_unsafe_requests_need_the_csrf_token(running: Running) -> None:
    c = running.login("admin")
    good = c.headers.pop("X-CSRF-Token")
    body = {"name": "script-a", "kind": "user"}
    r = c.post("/api/v1/tokens", json=body)
    assert r.status_code == 403
    assert "CSRF" in r.text
    r = c.post("/api/v1/tokens", json=body, headers={"X-CSRF-Token": good[:-2] + "xx"})
    assert r.status_code == 403
    r = c.post("/api/v1/tokens", json=body, headers={"X-CSRF-Token": good})
    assert r.status_code == 201
    # safe methods need none
    assert c.get("/api/v1/tokens").status_code == 200
    c.close()


def test_session_fixation_pre_login_id_is_dead_after_login(running: Running) -> None:
    with running.client() as c:
        csrf = _csrf(c)
        planted = c.cookies[SESSION_COOKIE]
        r = c.post(
            "/api/v1/auth/login", json={"username": "aud", "password": PASSWORDS["aud"]}, headers={"X-CSRF-Token": csrf}
        )
        assert r.status_code == 200
        fresh = c.cookies[SESSION_COOKIE]
        assert fresh != planted
        assert r.json()["csrf_token"] != csrf
    with running.client() as attacker:
        attacker.cookies.set(SESSION_COOKIE, planted)
        assert attacker.get("/api/v1/audit").status_code == 401
    with running.client() as victim:
        victim.cookies.set(SESSION_COOKIE, fresh)
        assert victim.get("/api/v1/audit").status_code == 200


def test_logout_ends_the_session(running: Running) -> None:
    c = running.login("aud")
    sid = c.cookies[SESSION_COOKIE]
    assert c.post("/api/v1/auth/logout").status_code == 204
    with running.client() as again:
        again.cookies.set(SESSION_COOKIE, sid)
        assert again.get("/api/v1/auth/me").status_code == 401
    c.close()


def test_login_rate_limit_per_user_and_address(running: Running) -> None:
    # the fixture allows 3 free failures, then backs off for 60 s
    with running.client() as c:
        csrf = _csrf(c)
        codes = [
            c.post(
                "/api/v1/auth/login",
                json={"username": "op2", "password": "wrong-wrong"},
                headers={"X-CSRF-Token": csrf},
            ).status_code
            for _ in range(5)
        ]
        assert codes[:3] == [401, 401, 401]
        assert codes[3:] == [429, 429]
        r = c.post(
            "/api/v1/auth/login", json={"username": "op2", "password": PASSWORDS["op2"]}, headers={"X-CSRF-Token": csrf}
        )
        assert r.status_code == 429  # even the right password waits
        assert int(r.headers["retry-after"]) > 0
        # another user from the same address is not locked out
        r = c.post(
            "/api/v1/auth/login", json={"username": "wm", "password": PASSWORDS["wm"]}, headers={"X-CSRF-Token": csrf}
        )
        assert r.status_code == 200


def test_wrong_password_and_unknown_user_look_the_same(running: Running) -> None:
    with running.client() as c:
        csrf = _csrf(c)
        a = c.post(
            "/api/v1/auth/login", json={"username": "officer", "password": "nope-nope"}, headers={"X-CSRF-Token": csrf}
        )
        b = c.post(
            "/api/v1/auth/login", json={"username": "nobody", "password": "nope-nope"}, headers={"X-CSRF-Token": csrf}
        )
        assert a.status_code == b.status_code == 401
        assert a.json() == b.json()


def test_api_tokens_work_expire_and_revoke(running: Running) -> None:
    admin = running.login("aud")  # self-service: the auditor mints their own token
    r = admin.post("/api/v1/tokens", json={"name": "auditor-script", "kind": "user", "days": 1})
    assert r.status_code == 201, r.text
    tok = r.json()
    secret = tok["token"]
    bearer = {"Authorization": f"Bearer {secret}"}
    with running.client() as script:
        assert script.get("/api/v1/audit", headers=bearer).status_code == 200
        assert script.post("/api/v1/audit/verify", headers=bearer).status_code == 200  # no CSRF for bearer tokens
        assert script.get("/api/v1/users", headers=bearer).status_code == 403  # acts with the auditor's role only
        # hashed at rest: the secret is nowhere in the database
        with running.store.db.session() as s:
            rows = ApiTokenRepository(s).find()
            assert all(secret not in repr(t) for t in rows)
        db_bytes = (running.data_dir / "overt.db").read_bytes()
        assert secret.encode() not in db_bytes
        # expired: move its expiry into the past
        from overt.store.models import ApiTokenRow

        with running.store.db.session() as s:
            row = s.get(ApiTokenRow, tok["id"])
            assert row is not None
            row.expires_at = running.store.clock.now() - timedelta(seconds=1)
        r = script.get("/api/v1/audit", headers=bearer)
        assert r.status_code == 401
        assert "expired" in r.text
        with running.store.db.session() as s:
            row = s.get(ApiTokenRow, tok["id"])
            assert row is not None
            row.expires_at = running.store.clock.now() + timedelta(days=1)
        assert script.get("/api/v1/audit", headers=bearer).status_code == 200
        # revoked
        assert admin.delete(f"/api/v1/tokens/{tok['id']}").status_code == 200
        r = script.get("/api/v1/audit", headers=bearer)
        assert r.status_code == 401
        assert "revoked" in r.text
        assert script.get("/api/v1/audit", headers={"Authorization": "Bearer ovt_made-up"}).status_code == 401
        assert script.get("/api/v1/audit", headers={"Authorization": "Basic abc"}).status_code == 401
    admin.close()


def test_security_headers_and_no_swagger_cdn(running: Running) -> None:
    with running.client() as c:
        r = c.get("/login")
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert r.headers["x-frame-options"] == "DENY"
        assert "http" not in r.text.split("<body", 1)[0].replace('content="width', "")  # no external assets
        assert c.get("/docs").status_code == 404


def test_audit_records_logins(running: Running) -> None:
    c = running.login("aud")
    actions = [e["action"] for e in c.get("/api/v1/audit?action=auth.login").json()]
    assert actions
    assert set(actions) == {"auth.login"}
    c.close()
