"""End to end in a real browser (Debian's Chromium driven by Playwright) against a real server.

The operator starts a deployment on a test video (made here from sample images, with the
enrolled face in it), sees the alert appear without reloading, adjudicates it and opens the
report; an auditor verifies the audit chain. Screenshots of each page go to
``artifacts/screenshots/`` (look at them).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from overt.api.app import create_app
from overt.api.settings import ApiSettings
from overt.api.testing import ServerThread
from overt.config import EngineConfig, build_engine
from overt.deployments.runtime import PipelineSupervisor
from overt.deployments.sinks import StoreAlertSink
from overt.pipeline.synthetic import SyntheticClip, face_patches
from overt.samples import sample_image
from overt.vision.engine import FaceEngine
from overt.vision.imageio import read_image
from tests.api.conftest import PASSWORDS, Running, make_users
from tests.api.helpers import plan
from tests.web.helpers import CHROMIUM

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
DOCS_SHOTS = (
    Path(__file__).resolve().parents[2]
    / ("docs" if os.environ.get("OVERT_UPDATE_SCREENSHOTS") else "artifacts")
    / "screenshots"
)  # the README's screenshots are rewritten only with OVERT_UPDATE_SCREENSHOTS=1
LATENCY_FILE = Path(__file__).resolve().parents[2] / "artifacts" / "e2e-latency.json"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (scripts/ci-browser.sh)"
    ),
]

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")  # never download a browser of its own


@pytest.fixture(scope="module")
def engine() -> FaceEngine:
    return build_engine(EngineConfig())


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, engine: FaceEngine) -> Iterator[dict[str, Any]]:
    from overt.store.datadir import init_data_dir

    root = tmp_path_factory.mktemp("e2e")
    yao = read_image(sample_image("yaoming"))
    gdp = read_image(sample_image("gdp"))
    clip = SyntheticClip(
        960,
        540,
        12.5,
        6.0,
        face_patches(gdp, engine.detect(gdp))[:3],
        face_patches(yao, engine.detect(yao))[0],
        bystander_face_px=70,
        target_face_px=(80, 120),
        target_from_s=2.0,
    ).write(root / "street.mp4")
    store = init_data_dir(root / "data")
    make_users(store)
    app = create_app(
        ApiSettings(data_dir=root / "data", secure_cookies=False, alert_poll_s=0.1),
        store=store,
        engine_factory=lambda: engine,
    )
    server = ServerThread(app).start()
    running = Running(server.url, store, root / "data", server)
    # the operator drafts the deployment, a second person (an officer) authorises it later
    op = running.login("op")
    p = plan()
    p["place"] = "Station forecourt, camera 1"
    dep = op.post("/api/v1/deployments", json=p).json()["id"]
    op.close()
    svc = app.state.services
    sup = PipelineSupervisor(
        store,
        dep,
        [str(clip)],
        engine_factory=lambda: engine,
        sink_factory=lambda: StoreAlertSink(svc.alerts, dep, notifier=svc.notifier, live=svc.live),
        live=svc.live,
        realtime=True,
        poll_s=0.2,
    ).start()
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield {"running": running, "deployment": dep, "root": root}
    sup.stop()
    server.stop()
    store.db.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def login(browser: Any, url: str, user: str, viewport: tuple[int, int] = (1366, 900)) -> Any:
    ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = ctx.new_page()
    page.goto(url + "/login")
    page.fill("#username", user)
    page.fill("#password", PASSWORDS[user])
    page.click("#login-submit")
    page.wait_for_url(re.compile(r".*/(alerts|alert-log|deployments|watchlist|reports|audit|admin)$"))
    return page


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_watchlist_manager_enrols_with_feedback(browser: Any, world: dict[str, Any]) -> None:
    url = world["running"].url
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    page.goto(url + "/login")
    shot(page, "01-login")
    page.fill("#username", "wm")
    page.fill("#password", PASSWORDS["wm"])
    page.click("#login-submit")
    page.wait_for_url(re.compile(r".*/watchlist$"))
    page.wait_for_selector("#no-entries:not([hidden])")
    review = (datetime.now(UTC).date() + timedelta(days=300)).isoformat()

    def fill(ref: str, image: str) -> None:
        page.set_input_files("#add-form input[name=image]", image)
        page.fill("#add-form input[name=subject_ref]", ref)
        page.fill("#add-form input[name=reason]", "warrant issued by the crown court")
        page.fill("#add-form input[name=image_source]", "custody photograph")
        page.fill("#add-form input[name=legal_basis]", "PACE s64A")
        page.fill("#add-form input[name=taken_on]", "2025-03-01")
        page.fill("#add-form input[name=review_on]", review)
        page.click("#add-form button[type=submit]")

    fill("CASE-GROUP", str(sample_image("gdp")))  # five faces: must be refused, with the reason
    err = page.wait_for_selector("#enrol-error")
    assert "face" in err.inner_text().lower()
    shot(page, "02-watchlist-rejected")
    fill("CASE-0001", str(sample_image("yaoming")))
    page.wait_for_selector("#enrol-result .ok")
    page.wait_for_selector("#entries tbody tr")
    assert "CASE-0001" in page.inner_text("#entries")
    shot(page, "03-watchlist")
    ctx.close()


def test_officer_authorises(browser: Any, world: dict[str, Any]) -> None:
    url, dep = world["running"].url, world["deployment"]
    page = login(browser, url, "officer")
    page.goto(f"{url}/deployments")
    page.wait_for_selector("#deployments tbody tr")
    shot(page, "04-deployments")
    page.goto(f"{url}/deployments/{dep}")
    # the review screen: every entry the snapshot would hold, with its image and provenance
    page.wait_for_selector("#review-entries tbody tr")
    assert "CASE-0001" in page.inner_text("#review-entries")
    assert "false alerts per 1,000 faces" in page.inner_text("#review-summary")
    deadline = time.monotonic() + 10
    while not page.evaluate("document.querySelector('img.review-img').naturalWidth > 0"):  # no eval under the CSP
        assert time.monotonic() < deadline, "the entry's image did not load"
        time.sleep(0.1)
    page.fill("#authorise-note", "Proportionate: court warrants outstanding, signage confirmed on site.")
    page.check("#authorise-checked")
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_SHOTS / "officer-review.png"), full_page=True)
    page.click("#act-authorise")
    page.wait_for_selector("#dep-state:text('authorised')")
    page.wait_for_selector("#flash.ok")
    assert "false alerts per 1,000" in page.inner_text("#flash")
    assert "1" in page.inner_text("#snapshot")
    shot(page, "05-deployment-authorised")
    # the notice goes public; the test runs inside the 24 h lead time, so the officer approves an urgent start
    page.click("#act-notice")
    page.wait_for_selector("#act-late:not([hidden])")
    page.once("dialog", lambda d: d.accept("urgent: demonstration of the start path"))
    page.click("#act-late")
    page.wait_for_selector("#act-late", state="hidden")
    page.context.close()


def test_operator_sees_the_alert_live_adjudicates_and_opens_the_report(browser: Any, world: dict[str, Any]) -> None:
    url, dep = world["running"].url, world["deployment"]
    queue = login(browser, url, "op")
    queue.goto(url + "/alerts")
    queue.wait_for_selector("#feed-state:text('receiving alerts')")
    queue.wait_for_selector("#no-alerts:not([hidden])")
    shot(queue, "06-alerts-empty")
    queue.evaluate("window.__loadMarker = 'first-load'")
    # a second tab of the same operator starts the deployment
    control = queue.context.new_page()
    control.goto(f"{url}/deployments/{dep}")
    control.click("#act-start")
    control.wait_for_selector("#dep-state:text('active')")
    control.wait_for_selector("#camera-state:text('camera connected')", timeout=15000)
    shot(control, "07-deployment-active")
    # the alert appears in the first tab without a reload
    card = queue.wait_for_selector(".alert-card", timeout=60000)
    assert queue.evaluate("window.__loadMarker") == "first-load"
    alert_id = int(card.get_attribute("data-alert-id"))
    received_ms = int(card.get_attribute("data-received-at"))
    op_api = world["running"].login("op")
    raised = datetime.fromisoformat(op_api.get(f"/api/v1/alerts/{alert_id}").json()["raised_at"])
    op_api.close()
    latency_ms = received_ms - raised.timestamp() * 1000
    LATENCY_FILE.parent.mkdir(parents=True, exist_ok=True)
    LATENCY_FILE.write_text(json.dumps({"raised_to_on_screen_ms": round(latency_ms, 1)}) + "\n")
    queue.wait_for_function(
        "document.querySelector('.alert-card img.probe') && document.querySelector('.alert-card img.probe').complete"
        " && document.querySelector('.alert-card img.probe').naturalWidth > 0"
    )
    queue.wait_for_function("document.querySelector('.alert-card img.ref').naturalWidth > 0")
    assert "%" in card.query_selector(".sim").inner_text()
    assert card.query_selector(".cam").inner_text() == "cam-1"
    assert "px" in card.query_selector(".quality").inner_text()
    shot(queue, "08-alert-live")
    # tablet layout of the same queue
    queue.set_viewport_size({"width": 768, "height": 1024})
    shot(queue, "09-alert-tablet")
    queue.set_viewport_size({"width": 1366, "height": 900})
    # adjudicate: a true match, arrested
    card.query_selector("select.outcome").select_option("arrested")
    card.query_selector("button.confirm").click()
    queue.wait_for_selector(f"#alert-{alert_id}[data-state='true_match']", state="attached")
    queue.check("#show-done")
    assert "Confirmed match · arrested" in queue.inner_text(f"#alert-{alert_id} .state")
    shot(queue, "10-alert-adjudicated")
    # live view of the camera while it runs (bystanders blurred in the frame)
    control.wait_for_selector("#live:not([hidden])", timeout=15000)
    shot(control, "11-live-view")
    control.wait_for_selector("#camera-state:text('disconnected')", timeout=30000)
    shot(control, "12-camera-disconnected")
    control.close()
    # the report
    queue.goto(f"{url}/reports/{dep}")
    queue.wait_for_selector("#chart-alerts .bar-row")
    facts = queue.inner_text("#report-facts")
    assert "Station forecourt" in facts
    chart = queue.inner_text("#chart-alerts")
    assert re.search(r"True\s+1", chart), chart
    shot(queue, "13-report")
    queue.goto(f"{url}/reports")
    queue.wait_for_selector("#report-list tbody tr")
    shot(queue, "14-reports")
    queue.context.close()
    assert latency_ms < 5000, f"raised -> on screen took {latency_ms:.0f} ms"


def test_auditor_verifies_the_chain(browser: Any, world: dict[str, Any]) -> None:
    url = world["running"].url
    page = login(browser, url, "aud")
    page.goto(url + "/audit")
    page.wait_for_selector("#audit tbody tr")
    text = page.inner_text("#audit")
    for action in ("deployment.authorised", "deployment.started", "alert.raised", "alert.viewed", "alert.adjudicated"):
        assert action in text, action
    page.click("#verify")
    page.wait_for_selector("#verify-result:not([hidden])")
    assert "Chain intact" in page.inner_text("#verify-result")
    shot(page, "15-audit-verified")
    # an auditor has no alert queue and no images
    page.goto(url + "/alerts")
    assert "may not" in page.content()
    page.context.close()


def test_admin_pages(browser: Any, world: dict[str, Any]) -> None:
    url, dep = world["running"].url, world["deployment"]
    page = login(browser, url, "admin")
    page.goto(url + "/admin")
    page.wait_for_selector("#users tbody tr")
    page.click("details:has(#token-form) summary")
    page.fill("#token-form input[name=name]", "edge-1")
    page.fill("#token-form input[name=deployment_id]", str(dep))
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#token-secret:not([hidden])")
    assert "ovt_" in page.inner_text("#token-secret")
    shot(page, "16-admin")
    # an expired deployment says so
    op = world["running"].login("op")
    p = plan(hours=1, start_offset_min=-120)
    old = op.post("/api/v1/deployments", json=p).json()["id"]
    op.close()
    page.goto(f"{url}/deployments/{old}")
    page.wait_for_selector("#expired:not([hidden])")
    shot(page, "17-deployment-expired")
    page.context.close()
