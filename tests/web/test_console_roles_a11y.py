"""Role-aware console pages, HTML error pages, the auditor's alert log, and an axe-core check.

axe-core comes bundled with axe-playwright-python (no network); the rules run are the WCAG 2.0,
2.1 and 2.2 A and AA tags. Every console page a role can open is checked (the public site is
checked by its own tests); the URLs checked are written to artifacts/axe-console.json.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from overt.samples import sample_image
from tests.api.helpers import plan
from tests.web.helpers import CHROMIUM, World, login_page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
AXE_REPORT = Path(__file__).resolve().parents[2] / "artifacts" / "axe-console.json"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("roles"))
    w.raise_alert()
    op = w.api("op")
    draft = op.post("/api/v1/deployments", json=plan()).json()["id"]
    op.close()
    w.draft = draft  # type: ignore[attr-defined]
    yield w
    w.close()


def test_auditor_sees_no_deployment_form_no_queue_and_lists_alerts_without_images(browser: Any, world: World) -> None:
    page = login_page(browser, world.url, "aud")
    page.goto(world.url + "/deployments")
    page.wait_for_selector("#deployments tbody tr")
    assert page.query_selector("#create-form") is None
    page.goto(f"{world.url}/deployments/{world.deployment}")
    page.wait_for_selector("#plan dt")
    assert page.query_selector("#dep-actions button") is None  # nothing an auditor may not do
    assert page.query_selector("#review") is None
    page.goto(world.url + "/alert-log")
    page.wait_for_selector("#alert-log tbody tr")
    assert page.query_selector("main img") is None
    assert "cam-1" in page.inner_text("#alert-log")
    # forbidden and not found are HTML pages in the console (the API keeps JSON)
    resp = page.goto(world.url + "/alerts")
    assert resp.status == 403
    assert "Not allowed" in page.inner_text("#error")
    resp = page.goto(world.url + "/no-such-page")
    assert resp.status == 404
    assert "Not found" in page.inner_text("#error")
    assert httpx.get(world.url + "/api/v1/nothing-here").json()["detail"] == "Not Found"
    page.context.close()


def test_operator_sees_no_authorise_and_officer_gets_the_review(browser: Any, world: World) -> None:
    draft = world.draft  # type: ignore[attr-defined]
    op = login_page(browser, world.url, "op")
    op.goto(f"{world.url}/deployments/{draft}")
    op.wait_for_selector("#plan dt")
    assert op.query_selector("#act-authorise") is None
    assert op.query_selector("#review") is None
    op.wait_for_selector("#act-close:not([hidden])")  # the operator may close a draft
    op.context.close()
    officer = login_page(browser, world.url, "officer")
    officer.goto(f"{world.url}/deployments/{draft}")
    officer.wait_for_selector("#review-entries tbody tr")
    assert "CASE-0001" in officer.inner_text("#review-entries")
    officer.fill("#authorise-note", "Reviewed: one warrant, threshold as calibrated.")
    officer.check("#authorise-checked")
    officer.click("#act-authorise")
    officer.wait_for_selector("#dep-state:text('authorised')")
    officer.context.close()
    aud = world.api("aud")
    rows = aud.get("/api/v1/audit", params={"limit": 1000}).json()
    aud.close()
    auth = [r for r in rows if r["action"] == "deployment.authorised" and r["target"] == f"deployment:{draft}"]
    assert auth
    assert auth[0]["details"]["note"] == "Reviewed: one warrant, threshold as calibrated."


def _axe(page: Any) -> list[dict[str, Any]]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    return list(results.response["violations"])


def test_axe_finds_no_wcag_violation_on_any_console_page(browser: Any, world: World) -> None:
    pages = {
        "op": [
            "/alerts",
            "/deployments",
            f"/deployments/{world.deployment}",
            "/reports",
            f"/reports/{world.deployment}",
        ],
        "officer": [f"/deployments/{world.draft}", "/alert-log"],  # type: ignore[attr-defined]
        "wm": ["/watchlist"],
        "aud": ["/audit", "/alert-log", "/alerts"],  # /alerts: the HTML 403 page
        "admin": ["/admin"],
    }
    checked: list[str] = []
    found: dict[str, list[str]] = {}
    ctx = browser.new_context(viewport={"width": 1366, "height": 900}, bypass_csp=True)
    anon = ctx.new_page()
    anon.goto(world.url + "/login")
    if violations := [v["id"] for v in _axe(anon)]:
        found["/login"] = violations
    checked.append("/login")
    # the checker is not a no-op: an image without a text alternative is found
    anon.evaluate("document.querySelector('main').append(document.createElement('img'))")
    assert "image-alt" in [v["id"] for v in _axe(anon)]
    ctx.close()
    for user, paths in pages.items():
        page = login_page(browser, world.url, user)
        for path in paths:
            page.goto(world.url + path)
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(300)
            violations = _axe(page)
            checked.append(f"{path} ({user})")
            if violations:
                found[f"{path} ({user})"] = [f"{v['id']}: {v['nodes'][0]['target']}" for v in violations]
        page.context.close()
    AXE_REPORT.parent.mkdir(parents=True, exist_ok=True)
    AXE_REPORT.write_text(json.dumps({"tags": WCAG_TAGS, "checked": checked, "violations": found}, indent=1) + "\n")
    bad = {k: v for k, v in found.items() if v}
    assert not bad, json.dumps(bad, indent=1)
    assert len(checked) >= 12
    assert all(re.match(r"^/", c) for c in checked)


def test_a_duplicate_face_needs_a_confirmation_naming_the_existing_entry(browser: Any, world: World) -> None:
    page = login_page(browser, world.url, "wm")
    page.wait_for_selector("#entries tbody tr")
    review = (datetime.now(UTC).date() + timedelta(days=300)).isoformat()

    def submit() -> None:
        page.set_input_files("#add-form input[name=image]", str(sample_image("yaoming")))
        page.fill("#add-form input[name=subject_ref]", "CASE-0002")
        page.fill("#add-form input[name=reason]", "a second warrant")
        page.fill("#add-form input[name=image_source]", "custody photograph")
        page.fill("#add-form input[name=legal_basis]", "PACE s64A")
        page.fill("#add-form input[name=taken_on]", "2025-03-01")
        page.fill("#add-form input[name=review_on]", review)
        page.click("#add-form button[type=submit]")

    seen: list[str] = []

    def answer(accept: bool) -> Any:
        def on_dialog(d: Any) -> None:
            seen.append(d.message)
            d.accept() if accept else d.dismiss()

        return on_dialog

    page.once("dialog", answer(False))
    submit()
    page.wait_for_selector("#enrol-error")
    assert "CASE-0001" in seen[0]
    assert "Nothing was saved" in seen[0]
    assert "CASE-0002" not in page.inner_text("#entries")
    page.once("dialog", answer(True))
    submit()
    page.wait_for_selector("#enrol-result .ok")
    page.wait_for_selector("#entries tbody tr:has-text('CASE-0002')")
    page.context.close()
    aud = world.api("aud")
    rows = aud.get("/api/v1/audit/page", params={"action": "watchlist.entry_added"}).json()["entries"]
    aud.close()
    assert rows[0]["details"]["confirmed_not_duplicate_of"] == world.entry
