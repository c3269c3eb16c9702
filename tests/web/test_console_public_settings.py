"""An admin sets the public site's contact details from the console (the service `overt public` and
the API use); the public pages show them and the change is audited."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.web.helpers import BROWSER_MARKS, World, login_page, world_fixture

pytestmark = BROWSER_MARKS


world = world_fixture("public-settings")


def wait_value(page: Any, name: str, expected: str) -> None:
    """The form is filled from the API after the page loads (the CSP forbids wait_for_function)."""
    deadline = time.monotonic() + 10
    while page.input_value(f"#public-form [name={name}]") != expected:
        assert time.monotonic() < deadline, page.input_value(f"#public-form [name={name}]")
        time.sleep(0.1)


def test_admin_sets_the_public_contact_details_in_the_console(browser: Any, world: World) -> None:
    page = login_page(browser, world.url, "admin")
    page.goto(world.url + "/admin")
    page.wait_for_selector("#public-form")
    wait_value(page, "force_name", "The police force")
    # the service's rule shows as it is: an address that is not http(s) is refused
    page.fill("#public-form [name=complaints_url]", "ftp://complaints.example.org")
    page.click("#public-save")
    page.wait_for_selector("#public-state:text('Not saved')")
    assert "must be an http(s) address" in page.inner_text("#public-state")
    page.fill("#public-form [name=complaints_url]", "https://complaints.example.org")
    page.fill("#public-form [name=contact_email]", "lfr@police.example.org")
    page.fill("#public-form [name=contact_phone]", "0100 000 000")
    page.click("#public-save")
    page.wait_for_selector("#public-state:text('Saved')")
    page.reload()
    wait_value(page, "contact_email", "lfr@police.example.org")
    page.context.close()
    rights = httpx.get(f"{world.url}/public/rights.html").text
    for shown in ("lfr@police.example.org", "0100 000 000", "https://complaints.example.org"):
        assert shown in rights
    c = world.api("aud")
    rows = c.get("/api/v1/audit", params={"action": "public.settings_changed"}).json()
    c.close()
    assert [(e["actor"], e["details"]["fields"]) for e in rows] == [
        ("admin", "complaints_url,contact_email,contact_phone")
    ]
