"""Attack 6 in the console (real Chromium): after an admin reset, the user lands on the account
page, can do nothing else, changes the password and carries on."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import PASSWORDS, Running
from tests.web.helpers import CHROMIUM
from tests.web.test_console_e2e import browser  # noqa: F401 - the fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def test_reset_password_is_changed_in_the_console(browser: Any, running: Running) -> None:  # noqa: F811
    admin = running.login("admin")
    uid = next(u["id"] for u in admin.get("/api/v1/users").json() if u["name"] == "aud")
    assert admin.post(
        f"/api/v1/users/{uid}/password-reset", json={"temporary_password": "temporary-pass-77"}
    ).is_success
    admin.close()
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    page.goto(running.url + "/login")
    page.fill("#username", "aud")
    page.fill("#password", "temporary-pass-77")
    page.click("#login-submit")
    page.wait_for_url(re.compile(r".*/account$"))
    page.wait_for_selector("#must-change")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "security-account-must-change.png"), full_page=True)
    assert page.request.get(running.url + "/api/v1/audit").status == 403  # nothing else yet
    page.fill("#password-form input[name=old_password]", "temporary-pass-77")
    page.fill("#password-form input[name=new_password]", "password1234")
    page.click("#password-form button[type=submit]")
    page.wait_for_selector("#flash:not([hidden])")
    assert "common" in page.inner_text("#flash")
    page.fill("#password-form input[name=old_password]", "temporary-pass-77")
    page.fill("#password-form input[name=new_password]", PASSWORDS["aud"])
    page.click("#password-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/(deployments|audit|reports)$"))
    ctx.close()
