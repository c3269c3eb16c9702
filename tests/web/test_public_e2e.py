"""Overt in public, end to end in Chromium: a member of the public on a 360 px phone.

The operator's start before the notice is refused in the console (and says why); the public sees the
upcoming notice, scans the sign's QR code (decoded from a rendering of the PDF) into the deployment's
page, sees it active, and after it closes sees the results. axe-core (bundled; no network) finds no
WCAG 2.2 A/AA violation on any public page; pages reflow at 360 px and at 200 % zoom, work with
the keyboard and without JavaScript. Screenshots go to ``artifacts/screenshots/public-*.png``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.helpers import alert_body, device_client, plan
from tests.public_helpers import GEOFENCE, LATE_REASON, PASSWORD, PublicWorld, build_world
from tests.transparency.test_signage import decode_qr
from tests.web import test_console_e2e as console_e2e
from tests.web.helpers import CHROMIUM

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
AXE_REPORT = ROOT / "artifacts" / "axe-public.json"
README_SHOT = ROOT / "docs" / "screenshots" / "public.png"
PHONE = {"width": 360, "height": 740}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
OP, OFFICER = "zqx_operator_finch", "zqx_officer_marlow"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
browser = console_e2e.browser  # the shared Chromium fixture (Debian's chromium, never a download)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublicWorld]:
    w = build_world(tmp_path_factory.mktemp("public-e2e"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield w
    w.running.server.stop()
    w.running.store.db.dispose()


def console_login(browser: Any, url: str, user: str) -> Any:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(url + "/login")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(re.compile(r".*/(alerts|deployments)$"))
    return page


def phone(browser: Any, **kw: Any) -> Any:
    return browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, **kw).new_page()


def section(page: Any, key: str) -> str:
    return str(page.inner_text(f"section[aria-labelledby='h-{key}']"))


def test_public_follows_a_deployment_from_notice_to_results(browser: Any, world: PublicWorld) -> None:
    url = world.running.url
    op_api, officer_api = world.login(OP), world.login(OFFICER)
    p = plan()
    p["place"] = "Clock Tower Square, west side"
    p["geofence"] = GEOFENCE
    dep = int(op_api.post("/api/v1/deployments", json=p).json()["id"])
    assert officer_api.post(f"/api/v1/deployments/{dep}/authorise").status_code == 200

    # the operator tries to start it before any notice: refused, and the console says why
    console = console_login(browser, url, OP)
    console.goto(f"{url}/deployments/{dep}")
    console.wait_for_selector("#dep-state:text('authorised')")
    console.click("#act-start")
    console.wait_for_selector("#flash:not([hidden])")
    assert "notice has not been published" in console.inner_text("#flash")
    console.click("#act-notice")
    console.wait_for_selector("#sign:not([hidden])")
    console.click("#act-start")
    console.wait_for_selector("#flash:has-text('the policy needs 24 h')")
    assert console.inner_text("#dep-state") == "authorised"
    console.screenshot(path=str(SHOTS / "public-01-start-refused.png"), full_page=True)

    # a member of the public, on a phone: the notice is up before the start
    public = phone(browser)
    public.goto(f"{url}/public/")
    assert "Clock Tower Square, west side" in section(public, "upcoming")
    public.screenshot(path=str(SHOTS / "public-02-upcoming-phone.png"), full_page=True)

    # the sign at the place: its QR code (decoded from a rendering of the PDF) opens the deployment's page
    pdf = op_api.get(f"/api/v1/deployments/{dep}/signage.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    scanned = decode_qr(pdf.content, 1)  # the A4 page
    assert scanned == f"{url}/public/deployments/{dep}.html"
    public.goto(scanned)
    public.wait_for_selector("h1:text('Clock Tower Square')")
    assert public.inner_text(".status") == "Upcoming"
    assert public.query_selector("svg.geofence polygon") is not None

    # an officer approves an urgent start (within the 24 h lead time); the operator starts it
    r = officer_api.post(f"/api/v1/deployments/{dep}/late-start", json={"reason": LATE_REASON})
    assert r.status_code == 200, r.text
    console.reload()
    console.wait_for_selector("#act-start:not([hidden])")
    console.click("#act-start")
    console.wait_for_selector("#dep-state:text('started')")  # no pipeline here: the console does not say active
    public.reload()
    assert public.inner_text(".status") == "Active"
    assert f"Published late, reason: {LATE_REASON}" in public.inner_text("main")
    public.screenshot(path=str(SHOTS / "public-03-active-phone.png"), full_page=True)

    # it runs (alerts, reviews, faces counted), then closes: the results are published
    dev = device_client(world.running, dep)
    alert_ids = [int(dev.post("/api/v1/ingest/alerts", json=alert_body(1)).json()["alert_id"]) for _ in range(3)]
    dev.close()
    verdicts = [{"verdict": "true_match", "outcome": "arrested"}, {"verdict": "false_match"}]
    for a, v in zip(alert_ids, verdicts, strict=False):
        assert op_api.post(f"/api/v1/alerts/{a}/adjudication", json=v).status_code == 200
    from overt.deployments import DeploymentService

    DeploymentService(world.running.store).record_faces_processed(dep, 1500)
    assert op_api.post(f"/api/v1/deployments/{dep}/close").status_code == 200
    public.reload()
    assert public.inner_text(".status") == "Ended"
    results = public.inner_text("section[aria-labelledby='h-results']")
    for row in ("Faces processed (not stored)\t1500", "Alerts\t3", "Confirmed alerts\t1", "False alerts\t1",
                "Alerts not reviewed\t1", "Outcome: arrested\t1"):  # fmt: skip
        assert row in results, (row, results)
    assert public.query_selector(".charts svg[role=img]") is not None
    public.screenshot(path=str(SHOTS / "public-04-results-phone.png"), full_page=True)
    public.goto(f"{url}/public/")
    assert "Clock Tower Square, west side" in section(public, "past")
    assert "Clock Tower Square, west side" not in section(public, "upcoming")
    public.context.close()
    console.context.close()
    op_api.close()
    officer_api.close()


def _public_urls(world: PublicWorld) -> list[str]:
    deps = [world.ended, world.active, world.upcoming, world.cancelled]
    pages = ["", "retention.html", "rights.html"] + [f"deployments/{d}.html" for d in deps]
    return [f"{world.running.url}/public/{p}" for p in pages]


def test_axe_finds_no_wcag22_violation_on_any_public_page(browser: Any, world: PublicWorld) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    canary = browser.new_context().new_page()  # axe does run and does report: an image without a text alternative
    canary.set_content("<!doctype html><html lang='en'><title>t</title><main><img src='x.png'></main></html>")
    assert "image-alt" in [v["id"] for v in axe.run(canary).response["violations"]]
    canary.context.close()
    checked: list[dict[str, Any]] = []
    failures: list[str] = []
    for name, ctx_args in (
        ("phone", {"viewport": PHONE, "is_mobile": True}),
        ("desktop", {"viewport": {"width": 1280, "height": 900}}),
    ):
        page = browser.new_context(**ctx_args).new_page()
        for u in _public_urls(world):
            page.goto(u)
            res = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
            violations = [v["id"] for v in res.response["violations"]]
            checked.append({"url": u, "viewport": name, "violations": violations})
            if violations:
                failures.append(f"{u} ({name}): {res.generate_report()}")
        page.context.close()
    AXE_REPORT.parent.mkdir(parents=True, exist_ok=True)
    AXE_REPORT.write_text(json.dumps({"tags": WCAG_TAGS, "checked": checked}, indent=2) + "\n")
    print("axe checked:", *sorted({c["url"] for c in checked}), sep="\n  ")
    assert not failures, "\n".join(failures)
    assert len(checked) == 2 * len(_public_urls(world))


def test_pages_reflow_at_360px_and_200_percent_zoom_and_work_by_keyboard_without_js(
    browser: Any, world: PublicWorld
) -> None:
    # 360 px phone, and 200 % zoom of a 1280 px window (= 640 CSS px): nothing scrolls sideways
    for width in (360, 640):
        page = browser.new_context(viewport={"width": width, "height": 800}).new_page()
        for u in _public_urls(world):
            page.goto(u)
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{u} scrolls sideways by {overflow} px at {width} px"
        page.context.close()
    # keyboard only: the first Tab reaches the skip link; Tab moves on to a deployment, Enter opens it
    page = phone(browser)
    page.goto(f"{world.running.url}/public/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    assert page.evaluate("getComputedStyle(document.activeElement).left") != "-999em"
    target = f"deployments/{world.ended}.html"
    for _ in range(30):
        page.keyboard.press("Tab")
        if (page.evaluate("document.activeElement.getAttribute('href')") or "").endswith(target):
            break
    else:
        pytest.fail("the deployment link was not reachable with Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf".*/{re.escape(target)}$"))
    page.context.close()
    # no JavaScript at all: the same content is there
    page = phone(browser, java_script_enabled=False)
    page.goto(f"{world.running.url}/public/deployments/{world.ended}.html")
    assert "Confirmed alerts" in page.inner_text("main")
    page.context.close()
    # the README's picture of the public site
    page = browser.new_context(viewport={"width": 1000, "height": 900}).new_page()
    page.goto(f"{world.running.url}/public/deployments/{world.ended}.html")
    # the README's copy is rewritten only on request (OVERT_UPDATE_README_SHOT=1), so test runs leave docs/ alone
    shot = README_SHOT if os.environ.get("OVERT_UPDATE_README_SHOT") else SHOTS / "public-05-readme.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    page.context.close()
