"""Attack 1: an admin minted a token for "officer" and authorised their own deployment with it.

Now a user token acts only as the user who creates it, device tokens only ingest for their one
deployment, and every audit entry names the real principal and the token it came through.
"""

from __future__ import annotations

from tests.api.conftest import Running
from tests.security.conftest import DEPLOYMENT, audit, bearer


def test_admin_cannot_mint_a_token_that_acts_as_the_officer(running: Running) -> None:
    admin = running.login("admin")
    dep = admin.post("/api/v1/deployments", json=DEPLOYMENT)
    assert dep.status_code == 201, dep.text
    dep_id = dep.json()["id"]
    # the attack as tried
    r = admin.post("/api/v1/tokens", json={"name": "as-officer", "kind": "user", "user_name": "officer"})
    assert r.status_code == 403
    assert "acts only as the user who creates it" in r.json()["detail"]
    # the admin's own token acts as the admin, who may not authorise
    own = admin.post("/api/v1/tokens", json={"name": "mine", "kind": "user"})
    assert own.status_code == 201
    assert own.json()["user_name"] == "admin"
    with running.client() as c:
        r = c.post(f"/api/v1/deployments/{dep_id}/authorise", headers=bearer(own.json()["token"]), json={})
        assert r.status_code == 403
        assert (
            c.get(f"/api/v1/deployments/{dep_id}", headers=bearer(own.json()["token"])).json()["authorised_by"] is None
        )
    admin.close()


def test_an_officers_own_token_is_audited_as_the_officer_and_the_token(running: Running) -> None:
    officer = running.login("officer")
    r = officer.post("/api/v1/tokens", json={"name": "officer-script", "kind": "user", "days": 1})
    assert r.status_code == 201
    tok = r.json()
    created = [e for e in audit(running) if e.action == "token.created" and e.target == f"token:{tok['id']}"]
    assert created
    assert created[0].actor == "officer"
    assert created[0].details["acts_as"] == "officer"
    with running.client() as script:
        me = script.get("/api/v1/auth/me", headers=bearer(tok["token"])).json()
        assert (me["name"], me["via"]) == ("officer", "token")
        # a token cannot mint more tokens (a stolen token cannot outlive its revocation)
        again = script.post("/api/v1/tokens", json={"name": "x", "kind": "user"}, headers=bearer(tok["token"]))
        assert again.status_code == 403
        # an action through the token names the officer and the token
        r = script.post("/api/v1/deployments", json=DEPLOYMENT, headers=bearer(tok["token"]))
        assert r.status_code == 201
    entry = next(
        e for e in audit(running) if e.action == "deployment.created" and e.target == f"deployment:{r.json()['id']}"
    )
    assert entry.actor == "officer"
    assert entry.details["via_token"] == tok["id"]
    officer.close()


def test_device_tokens_only_ingest_for_their_deployment(running: Running) -> None:
    admin = running.login("admin")
    dep_id = admin.post("/api/v1/deployments", json=DEPLOYMENT).json()["id"]
    dev = admin.post("/api/v1/tokens", json={"name": "edge-9", "kind": "device", "deployment_id": dep_id})
    assert dev.status_code == 201
    assert dev.json()["user_name"] is None
    h = bearer(dev.json()["token"])
    with running.client() as c:
        for method, path in [
            ("GET", "/api/v1/deployments"),
            ("GET", f"/api/v1/deployments/{dep_id}"),
            ("POST", f"/api/v1/deployments/{dep_id}/start"),
            ("POST", f"/api/v1/deployments/{dep_id}/close"),
            ("GET", "/api/v1/alerts"),
            ("GET", "/api/v1/audit"),
            ("POST", "/api/v1/tokens"),
            ("GET", "/api/v1/watchlist/entries"),
        ]:
            assert c.request(method, path, headers=h, json={}).status_code == 403, (method, path)
        assert c.get("/api/v1/auth/me", headers=h).json()["name"] == "device:edge-9"
    # only admins mint device tokens
    op = running.login("op")
    r = op.post("/api/v1/tokens", json={"name": "edge-x", "kind": "device", "deployment_id": dep_id})
    assert r.status_code == 403
    op.close()
    admin.close()


def test_users_revoke_only_their_own_tokens(running: Running) -> None:
    op = running.login("op")
    mine = op.post("/api/v1/tokens", json={"name": "op-script", "kind": "user"}).json()
    aud = running.login("aud")
    assert aud.delete(f"/api/v1/tokens/{mine['id']}").status_code == 403
    assert all(t["user_name"] == "aud" for t in aud.get("/api/v1/tokens").json())
    assert op.delete(f"/api/v1/tokens/{mine['id']}").status_code == 200
    with running.client() as c:
        assert c.get("/api/v1/auth/me", headers=bearer(mine["token"])).status_code == 401
    op.close()
    aud.close()


def test_a_device_token_bound_to_cameras_posts_only_for_them(running: Running) -> None:
    admin = running.login("admin")
    dep_id = admin.post("/api/v1/deployments", json=DEPLOYMENT).json()["id"]
    r = admin.post(
        "/api/v1/tokens", json={"name": "edge-cam", "kind": "device", "deployment_id": dep_id, "cameras": ["cam-1"]}
    )
    assert r.status_code == 201
    assert r.json()["cameras"] == ["cam-1"]
    h = bearer(r.json()["token"])
    alert = {"alert_id": "a-1", "subject": "1", "similarity": 0.9, "track_id": 1, "alerted_at": "2026-06-01T00:00:00Z"}
    with running.client() as c:
        other = c.post("/api/v1/ingest/alerts", json={**alert, "camera": "cam-2"}, headers=h)
        assert other.status_code == 403
        assert "camera" in other.json()["detail"]
        own = c.post("/api/v1/ingest/alerts", json={**alert, "camera": "cam-1"}, headers=h)
        assert own.status_code != 403  # past the token check (the deployment is not active: 409)
    # a user token takes no cameras or deployment
    r = admin.post("/api/v1/tokens", json={"name": "x", "kind": "user", "cameras": ["cam-1"]})
    assert r.status_code == 422
    admin.close()
