"""Deny by default: every route in the OpenAPI, called by every role and by nobody.

``MATRIX`` is the declared policy. The test fails when the OpenAPI's ``x-roles`` differ from
it (a route was added or its roles changed without updating this table) and when a real
request by any role is allowed or denied contrary to it.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.api.conftest import ROLE_USER, Running

A, O, WM, OP, AUD, DEV, ANON = (  # noqa: E741 - O is the officer
    "admin",
    "authorising_officer",
    "watchlist_manager",
    "operator",
    "auditor",
    "device",
    "anonymous",
)
USERS = {A, O, WM, OP, AUD}
REPORTERS = {A, O, AUD, OP}
DEPLOY_VIEW = {A, O, OP, AUD}
RUN = {A, O, OP}
AUTH = {O}

MATRIX: dict[tuple[str, str], set[str]] = {
    ("GET", "/api/v1/alerts"): {A, O, OP, AUD},
    ("GET", "/api/v1/alerts/{alert_id}"): {A, O, OP, AUD},
    ("POST", "/api/v1/alerts/{alert_id}/adjudication"): {OP},
    ("GET", "/api/v1/alerts/{alert_id}/crop.jpg"): {OP},
    ("GET", "/api/v1/alerts/{alert_id}/watchlist.jpg"): {OP},
    ("GET", "/api/v1/alerts/{alert_id}/scene"): {OP},
    ("GET", "/api/v1/alerts/{alert_id}/case"): {OP},
    ("POST", "/api/v1/alerts/{alert_id}/followups"): {OP},
    ("POST", "/api/v1/alerts/{alert_id}/undo"): {OP},
    ("GET", "/api/v1/pipeline/health"): DEPLOY_VIEW,
    ("GET", "/api/v1/deployments/{deployment_id}/review"): {O},
    ("GET", "/api/v1/deployments/{deployment_id}/review/entries/{entry_id}/image.jpg"): {O},
    ("GET", "/api/v1/audit"): {A, AUD},
    ("GET", "/api/v1/audit/page"): {A, AUD},
    ("POST", "/api/v1/audit/verify"): {A, AUD},
    ("GET", "/api/v1/auth/csrf"): {ANON},
    ("POST", "/api/v1/auth/login"): {ANON},
    ("POST", "/api/v1/auth/logout"): USERS,
    ("GET", "/api/v1/auth/me"): USERS | {DEV},
    ("GET", "/api/v1/deployments"): DEPLOY_VIEW,
    ("POST", "/api/v1/deployments"): RUN,
    ("GET", "/api/v1/deployments/{deployment_id}"): DEPLOY_VIEW,
    ("POST", "/api/v1/deployments/{deployment_id}/authorise"): {O},
    ("POST", "/api/v1/deployments/{deployment_id}/close"): RUN,
    ("GET", "/api/v1/deployments/{deployment_id}/live"): RUN,
    ("GET", "/api/v1/deployments/{deployment_id}/live.jpg"): RUN,
    ("POST", "/api/v1/deployments/{deployment_id}/publish-notice"): RUN,
    ("POST", "/api/v1/deployments/{deployment_id}/late-start"): AUTH,
    ("POST", "/api/v1/deployments/{deployment_id}/start"): RUN,
    ("GET", "/api/v1/deployments/{deployment_id}/signage.pdf"): DEPLOY_VIEW,
    ("POST", "/api/v1/deployments/{deployment_id}/stop"): RUN,
    ("GET", "/api/v1/health"): {ANON},
    ("GET", "/api/v1/public-settings"): {A},
    ("PUT", "/api/v1/public-settings"): {A},
    ("POST", "/api/v1/ingest/alerts"): {DEV},
    ("POST", "/api/v1/deployments/{deployment_id}/heartbeat"): {DEV},
    ("GET", "/api/v1/reports/deployments/{deployment_id}"): REPORTERS,
    ("GET", "/api/v1/reports/deployments/{deployment_id}/html"): REPORTERS,
    ("GET", "/api/v1/reports/period"): REPORTERS,
    ("POST", "/api/v1/me/password"): USERS,
    ("GET", "/api/v1/tokens"): USERS,  # one's own (admins: all)
    ("POST", "/api/v1/tokens"): USERS,  # user tokens for oneself; device tokens: admins (service rule)
    ("DELETE", "/api/v1/tokens/{token_id}"): USERS,  # one's own (admins: any)
    ("GET", "/api/v1/users"): {A},
    ("POST", "/api/v1/users"): {A},
    ("POST", "/api/v1/users/{user_id}/disable"): {A},
    ("POST", "/api/v1/users/{user_id}/enable"): {A},
    ("POST", "/api/v1/users/{user_id}/password-reset"): {A},
    ("POST", "/api/v1/users/{user_id}/role"): {A},
    ("GET", "/api/v1/watchlist/entries"): {A, O, WM, AUD},
    ("POST", "/api/v1/watchlist/entries"): {A, WM},
    ("DELETE", "/api/v1/watchlist/entries/{entry_id}"): {A, WM},
    ("GET", "/api/v1/watchlist/entries/{entry_id}/image.jpg"): {WM},
}
"""Who may call what. ``anonymous`` means public (everyone, logged in or not)."""

PAGES: dict[str, set[str]] = {
    "/alerts": {OP},
    "/alert-log": {A, O, AUD},  # the operator has the queue
    "/deployments": DEPLOY_VIEW,
    "/deployments/1": DEPLOY_VIEW,
    "/watchlist": {A, O, WM, AUD},
    "/reports": REPORTERS,
    "/reports/1": REPORTERS,
    "/audit": {A, AUD},
    "/admin": {A},
    "/account": USERS,
}

MISSING_ID = "987654"


@pytest.fixture(scope="module")
def clients(running: Running) -> Iterator[dict[str, httpx.Client]]:
    out = {role: running.login(name) for role, name in ROLE_USER.items()}
    admin = out[A]
    dep = admin.post(
        "/api/v1/deployments",
        json={
            "purpose": "p",
            "legal_basis": "l",
            "place": "x",
            "planned_start": "2026-01-01T00:00:00Z",
            "planned_end": "2026-01-01T06:00:00Z",  # within the default 12 h policy
            "criteria": "c",
            "categories": ["wanted_by_court"],
            "min_similarity": 0.5,
            "threshold_justification": "t",
        },
    )
    assert dep.status_code == 201, dep.text
    tok = admin.post("/api/v1/tokens", json={"name": "edge-1", "kind": "device", "deployment_id": dep.json()["id"]})
    assert tok.status_code == 201, tok.text
    dev = running.client()
    dev.headers["Authorization"] = f"Bearer {tok.json()['token']}"
    out[DEV] = dev
    anon = running.client()
    anon.headers["X-CSRF-Token"] = anon.get("/api/v1/auth/csrf").json()["csrf_token"]
    out[ANON] = anon
    yield out
    for c in out.values():
        c.close()


def test_openapi_declares_exactly_the_matrix(running: Running) -> None:
    doc = httpx.get(running.url + "/api/openapi.json").json()
    declared = {
        (method.upper(), path): set(op["x-roles"]) for path, ops in doc["paths"].items() for method, op in ops.items()
    }
    assert declared == MATRIX


def _call(c: httpx.Client, method: str, path: str) -> httpx.Response:
    url = path.replace("{alert_id}", MISSING_ID).replace("{deployment_id}", MISSING_ID)
    url = url.replace("{token_id}", MISSING_ID).replace("{entry_id}", MISSING_ID).replace("{user_id}", MISSING_ID)
    if url.endswith("/period"):
        url += "?start=2026-01-01T00:00:00Z&end=2026-02-01T00:00:00Z"
    if method in ("POST", "DELETE"):
        return c.request(method, url, json={})
    return c.request(method, url)


@pytest.mark.parametrize("role", [A, O, WM, OP, AUD, DEV, ANON])
def test_every_route_allows_and_denies_as_declared(role: str, clients: dict[str, httpx.Client]) -> None:
    c = clients[role]
    wrong: list[str] = []
    ops = sorted(MATRIX, key=lambda k: k == ("POST", "/api/v1/auth/logout"))  # log out last
    for method, path in ops:
        allowed = role in MATRIX[(method, path)] or ANON in MATRIX[(method, path)]
        r = _call(c, method, path)
        denied = r.status_code in (401, 403) and "CSRF" not in r.text
        if allowed and denied:
            wrong.append(f"{role} denied {method} {path}: {r.status_code} {r.text[:80]}")
        if not allowed:
            expected = 401 if role == ANON else 403
            if r.status_code != expected:
                wrong.append(f"{role} not denied {method} {path}: {r.status_code} (expected {expected})")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("role", [A, O, WM, OP, AUD, ANON])
def test_every_page_allows_and_denies_as_declared(role: str, running: Running) -> None:
    c = running.client() if role == ANON else running.login(ROLE_USER[role])
    wrong = []
    for page, roles in PAGES.items():
        r = c.get(page, headers={"Accept": "text/html"}, follow_redirects=False)
        if role in roles and r.status_code != 200:
            wrong.append(f"{role} denied page {page}: {r.status_code}")
        if role not in roles:
            expected = 303 if role == ANON else 403
            if r.status_code != expected:
                wrong.append(f"{role} not denied page {page}: {r.status_code}")
            if role == ANON and r.headers.get("location") != f"/login?next={page}":  # back there after login
                wrong.append(f"anonymous not sent to /login from {page}")
    c.close()
    assert not wrong, "\n".join(wrong)


def test_a_route_without_roles_is_denied_to_everyone(running: Running) -> None:
    """Fail closed: a route added without ``allow(...)`` answers 403, even to an admin."""
    from overt.api.app import create_app
    from overt.api.settings import ApiSettings
    from overt.api.testing import ServerThread

    app = create_app(ApiSettings(secure_cookies=False), store=running.store)

    @app.get("/api/v1/undeclared")
    def undeclared() -> dict[str, str]:
        return {"secret": "leaked"}

    server = ServerThread(app).start()
    try:
        other = Running(server.url, running.store, running.data_dir, server)
        with other.client() as c:
            assert c.get("/api/v1/undeclared").status_code == 403
        admin = other.login("admin")
        r = admin.get("/api/v1/undeclared")
        admin.close()
        assert r.status_code == 403
        assert "leaked" not in r.text
    finally:
        server.stop()
