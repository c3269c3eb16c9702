"""The public site over HTTP: no login, ETag + ``Cache-Control: public`` (304 on a match), rate-limited;
its contact fields are set by an admin only."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.api.conftest import start_server
from tests.api.helpers import active_deployment


def test_public_site_is_open_cacheable_and_rate_limited(tmp_path: Path) -> None:
    running = start_server(tmp_path / "data", public_rate_limit_per_min=14)
    try:
        dep = active_deployment(running)
        # an admin sets the contact fields (audited); nobody else may
        admin = running.login("admin")
        r = admin.put(
            "/api/v1/public-settings",
            json={"contact_email": "lfr@example.org", "dpia_url": "https://example.org/dpia.pdf"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["contact_email"] == "lfr@example.org"
        assert admin.put("/api/v1/public-settings", json={"dpia_url": "javascript:alert(1)"}).status_code == 422
        admin.close()
        op = running.login("op")
        assert op.put("/api/v1/public-settings", json={"force_name": "x"}).status_code == 403
        op.close()
        with httpx.Client(base_url=running.url, timeout=30) as anon:
            assert anon.put("/api/v1/public-settings", json={"force_name": "x"}).status_code == 401
            rights = anon.get("/public/rights.html").text
            assert "mailto:lfr@example.org" in rights
            assert 'href="https://example.org/dpia.pdf"' in rights
            r = anon.get("/public", follow_redirects=False)
            assert r.status_code == 308
            assert r.headers["location"] == "/public/"
            r = anon.get("/public/deployments.json")
            assert r.status_code == 200
            assert r.headers["cache-control"].startswith("public")
            assert r.headers["content-type"].startswith("application/json")
            doc = json.loads(r.content)
            assert [d["id"] for d in doc["deployments"]] == [dep]
            assert doc["deployments"][0]["status"] == "active"
            etag = r.headers["etag"]
            again = anon.get("/public/deployments.json", headers={"If-None-Match": etag})
            assert again.status_code == 304
            assert again.content == b""
            assert anon.get("/public/deployments.csv").headers["content-type"].startswith("text/csv")
            assert anon.get("/public/feed.atom").headers["content-type"].startswith("application/atom+xml")
            page = anon.get(f"/public/deployments/{dep}.html")
            assert page.status_code == 200
            assert page.headers["cache-control"] == "public, no-cache"  # pages revalidate: status changes
            assert anon.get("/public/deployments/999.html").status_code == 404
            assert "text/css" in anon.get("/public/style.css").headers["content-type"]
            # 8 public pages fetched so far (the redirect serves none); the limit is 14 per minute per address
            codes = [anon.get("/public/").status_code for _ in range(7)]
            assert codes == [200] * 6 + [429]
            limited = anon.get("/public/")
            assert limited.status_code == 429
            assert int(limited.headers["retry-after"]) >= 1
            # staff routes stay closed to the public
            assert anon.get(f"/api/v1/deployments/{dep}").status_code == 401
    finally:
        running.server.stop()
        running.store.db.dispose()
