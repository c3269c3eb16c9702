"""Attack 6: "officer\\n" was created beside "officer"; no way to disable a user, change a role,
or change/reset a password; 8-character passwords such as "password" were accepted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from overt.domain.users import Role, name_skeleton, validate_user_name
from overt.errors import AuthError, GovernanceError, InputError
from overt.store import Store
from overt.users import UserService
from overt.users.passwords import check_password
from tests.api.conftest import PASSWORDS, Running
from tests.cli.conftest import run
from tests.security.conftest import audit, bearer


@pytest.mark.parametrize("name", ["officer\n", "officer\r\n", "o", "1officer", "of ficer", "a" * 33, "оfficer"])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(InputError, match="user name"):
        validate_user_name(name)


def test_names_are_nfkc_case_folded() -> None:
    assert validate_user_name("OFFICER") == "officer"
    assert validate_user_name("ｏｆｆｉｃｅｒ") == "officer"  # fullwidth letters


@pytest.mark.parametrize("lookalike", ["0fficer", "offlcer", "officer_", "offi.cer", "Officer", "ofﬁcer"])
def test_confusable_names_are_refused(store: Store, lookalike: str) -> None:
    svc = UserService(store)
    admin = svc.create_first_admin("admin", PASSWORDS["admin"])
    svc.add(admin, "officer", Role.AUTHORISING_OFFICER, "officer-pass-phrase")
    with pytest.raises(InputError, match=r"too like|already exists|user name"):
        svc.add(admin, lookalike, Role.OPERATOR, "another-pass-phrase")
    assert name_skeleton("rnary") == name_skeleton("mary")


@pytest.mark.parametrize(
    "password",
    ["password", "password1234", "Password2024!", "p@ssw0rd1234", "qwertyuiop123", "aaaaaaaaaaaa", "abababababab"],
)
def test_weak_passwords_are_refused(password: str) -> None:
    with pytest.raises(InputError, match="password"):
        check_password(password)


def test_the_name_is_not_a_password() -> None:
    with pytest.raises(InputError, match="user name"):
        check_password("chiefinspector", user_name="chiefinspector")
    check_password("correct horse battery staple")


def test_lifecycle_rules(store: Store) -> None:
    svc = UserService(store)
    admin = svc.create_first_admin("admin", PASSWORDS["admin"])
    op = svc.add(admin, "op", Role.OPERATOR, "op-pass-phrase")
    with pytest.raises(GovernanceError, match="own account"):
        svc.set_role(admin, "admin", Role.AUDITOR)
    with pytest.raises(GovernanceError, match="own account"):
        svc.disable(admin, "admin")
    with pytest.raises(AuthError):
        svc.disable(op, "admin")
    second = svc.add(admin, "admin2", Role.ADMIN, "admin2-pass-phrase")
    svc.disable(second, "admin")
    with pytest.raises(AuthError):
        svc.authenticate("admin", PASSWORDS["admin"])
    svc.enable(second, "admin")
    assert svc.set_role(admin, "op", Role.AUDITOR).role is Role.AUDITOR
    actions = [e.action for e in _entries(store)]
    assert {"user.disabled", "user.enabled"} <= set(actions)


def _entries(store: Store) -> list:  # type: ignore[type-arg]
    with store.transaction() as tx:
        return list(tx.audit.entries())


def test_disabling_ends_sessions_and_tokens_at_once(running: Running) -> None:
    admin = running.login("admin")
    op2 = running.login("op2")
    tok = op2.post("/api/v1/tokens", json={"name": "op2-script", "kind": "user"}).json()
    assert op2.get("/api/v1/alerts").status_code == 200
    uid = next(u["id"] for u in admin.get("/api/v1/users").json() if u["name"] == "op2")
    r = admin.post(f"/api/v1/users/{uid}/disable")
    assert r.status_code == 200
    assert r.json()["disabled"] is True
    assert op2.get("/api/v1/alerts").status_code == 401
    with running.client() as c:
        assert c.get("/api/v1/alerts", headers=bearer(tok["token"])).status_code == 401
    e = next(e for e in audit(running) if e.action == "user.disabled" and e.target == f"user:{uid}")
    assert e.actor == "admin"
    assert e.details["tokens_revoked"] == 1
    # a disabled user cannot log in, even with the right password
    with running.client() as c:
        csrf = c.get("/api/v1/auth/csrf").json()["csrf_token"]
        body = {"username": "op2", "password": PASSWORDS["op2"]}
        assert c.post("/api/v1/auth/login", json=body, headers={"X-CSRF-Token": csrf}).status_code == 401
    assert admin.post(f"/api/v1/users/{uid}/enable").status_code == 200
    running.login("op2").close()
    # nobody changes their own role
    me = next(u["id"] for u in admin.get("/api/v1/users").json() if u["name"] == "admin")
    assert admin.post(f"/api/v1/users/{me}/role", json={"role": "auditor"}).status_code == 409
    r = admin.post(f"/api/v1/users/{uid}/role", json={"role": "auditor"})
    assert r.status_code == 200
    assert r.json()["role"] == "auditor"
    assert admin.post(f"/api/v1/users/{uid}/role", json={"role": "operator"}).status_code == 200
    op2.close()
    admin.close()


def test_admin_reset_forces_a_change_at_next_login(running: Running) -> None:
    admin = running.login("admin")
    uid = next(u["id"] for u in admin.get("/api/v1/users").json() if u["name"] == "wm")
    assert admin.post(f"/api/v1/users/{uid}/password-reset", json={"temporary_password": "password"}).status_code == 422
    r = admin.post(f"/api/v1/users/{uid}/password-reset", json={"temporary_password": "temporary-pass-42"})
    assert r.status_code == 200
    assert r.json()["must_change_password"] is True
    wm = running.login("wm", "temporary-pass-42")
    assert wm.get("/api/v1/auth/me").json()["must_change_password"] is True
    assert wm.get("/api/v1/watchlist/entries").status_code == 403  # nothing else until it is changed
    bad = wm.post("/api/v1/me/password", json={"old_password": "temporary-pass-42", "new_password": "qwertyuiop123"})
    assert bad.status_code == 422
    r = wm.post(
        "/api/v1/me/password", json={"old_password": "temporary-pass-42", "new_password": PASSWORDS["wm"] + "-new"}
    )
    assert r.status_code == 200
    wm.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    assert wm.get("/api/v1/watchlist/entries").status_code == 200
    actions = [(e.actor, e.action) for e in audit(running)]
    assert ("admin", "user.password_reset") in actions
    assert ("wm", "user.password_changed") in actions
    # put it back for the other tests of the module
    r = wm.post("/api/v1/me/password", json={"old_password": PASSWORDS["wm"] + "-new", "new_password": PASSWORDS["wm"]})
    assert r.status_code == 200
    wm.close()
    admin.close()


def test_trailing_newline_name_over_the_api(running: Running) -> None:
    admin = running.login("admin")
    r = admin.post("/api/v1/users", json={"name": "officer\n", "role": "operator", "password": "officer-pass-phrase"})
    assert r.status_code == 422
    r = admin.post("/api/v1/users", json={"name": "0fficer", "role": "operator", "password": "officer-pass-phrase"})
    assert r.status_code == 422
    r = admin.post("/api/v1/users", json={"name": "newbie", "role": "operator", "password": "password"})
    assert r.status_code == 422
    admin.close()


def test_the_cli_lifecycle(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    d = str(tmp_path / "d")
    monkeypatch.delenv("OVERT_DATABASE_URL", raising=False)
    monkeypatch.setenv("OVERT_PASSWORD", PASSWORDS["admin"])
    assert run(capsys, "init", "--data-dir", d, "--admin", "admin")[0] == 0
    monkeypatch.setenv("OVERT_NEW_PASSWORD", "password")
    code, _, err = run(capsys, "user", "add", "officer\n", "--role", "operator", "--data-dir", d, "--user", "admin")
    assert code == 3
    code, _, err = run(capsys, "user", "add", "op", "--role", "operator", "--data-dir", d, "--user", "admin")
    assert code == 3
    assert "at least 12" in err
    monkeypatch.setenv("OVERT_NEW_PASSWORD", "op-pass-phrase")
    assert run(capsys, "user", "add", "op", "--role", "operator", "--data-dir", d, "--user", "admin")[0] == 0
    assert run(capsys, "user", "disable", "op", "--data-dir", d, "--user", "admin")[0] == 0
    monkeypatch.setenv("OVERT_PASSWORD", "op-pass-phrase")
    assert run(capsys, "alert", "list", "--data-dir", d, "--user", "op")[0] == 7  # disabled
    monkeypatch.setenv("OVERT_PASSWORD", PASSWORDS["admin"])
    assert run(capsys, "user", "disable", "op", "--enable", "--data-dir", d, "--user", "admin")[0] == 0
    assert run(capsys, "user", "role", "admin", "auditor", "--data-dir", d, "--user", "admin")[0] == 8  # own role
    assert run(capsys, "user", "role", "op", "auditor", "--data-dir", d, "--user", "admin")[0] == 0
    monkeypatch.setenv("OVERT_NEW_PASSWORD", "temporary-pass-1")
    assert run(capsys, "user", "reset", "op", "--data-dir", d, "--user", "admin")[0] == 0
    monkeypatch.setenv("OVERT_PASSWORD", "temporary-pass-1")
    code, _, err = run(capsys, "audit", "show", "--data-dir", d, "--user", "op")
    assert code == 7
    assert "change it first" in err
    monkeypatch.setenv("OVERT_NEW_PASSWORD", "op-new-pass-phrase")
    assert run(capsys, "user", "passwd", "--data-dir", d, "--user", "op")[0] == 0
    monkeypatch.setenv("OVERT_PASSWORD", PASSWORDS["admin"])
    code, out, _ = run(capsys, "user", "list", "--data-dir", d, "--user", "admin", "--json")
    assert code == 0
    op = next(u for u in json.loads(out) if u["name"] == "op")
    assert (op["role"], op["disabled"], op["must_change_password"]) == ("auditor", False, False)
