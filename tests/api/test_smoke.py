from __future__ import annotations

from tests.api.conftest import Running


def test_health_and_login(running: Running) -> None:
    with running.client() as c:
        assert c.get("/api/v1/health").json()["status"] == "ok"
        assert c.get("/api/v1/deployments").status_code == 401
    c = running.login("op")
    me = c.get("/api/v1/auth/me").json()
    assert me["role"] == "operator"
    assert c.get("/api/v1/deployments").status_code == 200
    c.close()
