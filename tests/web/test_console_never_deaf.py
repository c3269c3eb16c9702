"""The alert queue is never silently deaf and never says "live" when nothing is processed.

Real server (uvicorn), real Chromium (Playwright). Alerts are raised meanwhile by an edge
device (device token, the real ingest endpoint); the operator's session is ended on the server
(as an idle timeout does) or the server is restarted on the same port and data directory.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from tests.api.conftest import PASSWORDS
from tests.web.helpers import BROWSER_MARKS, DOC_SHOTS, World, login_page, open_queue, world_fixture

pytestmark = BROWSER_MARKS
BLOCK_WITHIN_MS = 10_000
SHOTS = DOC_SHOTS
MEASURED = Path(__file__).resolve().parents[2] / "artifacts" / "console-never-deaf.json"


world = world_fixture("deaf")


def wait_blocked(page: Any, t0: float) -> float:
    page.wait_for_selector("#deaf:not([hidden])", timeout=BLOCK_WITHIN_MS)
    elapsed_ms = (time.monotonic() - t0) * 1000
    assert "NOT receiving alerts" in page.inner_text("#deaf")
    assert page.evaluate("document.querySelector('#queue-area').inert") is True
    assert "NOT RECEIVING" in page.title()
    return elapsed_ms


def relogin(page: Any, user: str = "op") -> None:
    page.fill("#relogin-password", PASSWORDS[user])
    page.click("#relogin-submit")
    try:
        page.wait_for_selector("#deaf", state="hidden", timeout=10_000)
    except Exception as e:  # say what the screen says, not only that it stayed
        why = page.inner_text("#deaf-reason"), page.inner_text("#relogin-error")
        raise AssertionError(f"still blocked after logging in again: {why}") from e
    page.wait_for_selector("#feed-state:text('receiving alerts')", timeout=10_000)


def test_session_ends_on_the_queue_blocks_within_10_s_and_missed_alerts_appear(browser: Any, world: World) -> None:
    page = open_queue(browser, world.url)
    first = world.raise_alert()
    page.wait_for_selector(f"#alert-{first}")
    t0 = time.monotonic()
    world.end_sessions("op")
    elapsed = wait_blocked(page, t0)
    assert elapsed < BLOCK_WITHIN_MS
    MEASURED.parent.mkdir(parents=True, exist_ok=True)
    MEASURED.write_text(json.dumps({"session_ended_to_blocking_state_ms": round(elapsed)}) + "\n")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "not-receiving.png"))
    missed = [world.raise_alert(), world.raise_alert()]
    time.sleep(0.5)
    for a in missed:
        assert page.query_selector(f"#alert-{a}") is None  # not received: and the screen says so
    relogin(page)
    for a in missed:
        page.wait_for_selector(f"#alert-{a}", state="attached", timeout=10_000)
    # repeat sightings of one subject share one card (the newest), which lists them all
    lead = f"#alert-{missed[-1]}"
    page.wait_for_selector(lead)
    sightings = page.inner_text(f"{lead} .sightings")
    for a in [first, *missed]:
        assert f"#{a}" in sightings, sightings
    assert page.is_hidden(f"#alert-{first}")
    assert page.url.endswith("/alerts")
    page.context.close()


def test_server_restart_blocks_and_missed_alerts_appear_after_login(browser: Any, world: World) -> None:
    page = open_queue(browser, world.url)
    t0 = time.monotonic()
    world.restart()  # sessions live in memory: everyone is logged out
    wait_blocked(page, t0)
    assert (time.monotonic() - t0) * 1000 < BLOCK_WITHIN_MS + 2000  # the restart itself takes a moment
    missed = [world.raise_alert(), world.raise_alert()]
    relogin(page)
    for a in missed:
        page.wait_for_selector(f"#alert-{a}", state="attached", timeout=10_000)
    page.wait_for_selector(f"#alert-{missed[-1]}")
    page.context.close()


def test_a_verdict_in_flight_survives_the_session_ending(browser: Any, world: World) -> None:
    page = open_queue(browser, world.url)
    alert = world.raise_alert()
    page.wait_for_selector(f"#alert-{alert}")
    page.click(f"#alert-{alert} .faces figcaption >> nth=0")  # select the card
    verdicts = "**/api/v1/alerts/*/adjudication"

    ended: list[bool] = []

    def session_ends_while_in_flight(route: Any) -> None:  # (one verdict covers the grouped sightings)
        if not ended:
            world.end_sessions("op")
            ended.append(True)
        route.continue_()

    page.route(verdicts, session_ends_while_in_flight)
    page.keyboard.press("f")  # false alert: sent at once, and the session ends while it is on its way
    wait_blocked(page, time.monotonic())
    assert "kept here" in page.inner_text("#deaf-pending")
    assert page.get_attribute(f"#alert-{alert}", "data-pending") == "false_match"
    page.unroute(verdicts)
    relogin(page)
    page.wait_for_selector(f"#alert-{alert}[data-state='false_match']", state="attached", timeout=15_000)
    c = world.api("op")
    a = c.get(f"/api/v1/alerts/{alert}").json()
    c.close()
    assert a["adjudication"] == "false_match"
    assert a["adjudicated_by"] == "op"
    page.context.close()


def test_with_no_pipeline_nothing_says_live(browser: Any, world: World) -> None:
    """Only the server runs: a started deployment and alerts from a device, but no frames."""
    page = open_queue(browser, world.url)
    page.wait_for_selector("#pipe-state:text('No camera is sending frames')")
    SHOTS.mkdir(parents=True, exist_ok=True)
    words = page.inner_text("main")
    assert not re.search(r"\blive\b", words, re.IGNORECASE), words
    page.goto(f"{world.url}/deployments/{world.deployment}")
    page.wait_for_selector("#dep-state:text('NOT processing')")
    page.wait_for_selector("#camera-state:not(:text('…'))")
    words = page.inner_text("main")
    assert not re.search(r"\blive\b|\bactive\b", words, re.IGNORECASE), words
    page.goto(f"{world.url}/deployments")
    page.wait_for_selector("#deployments tbody tr")
    assert not re.search(r"\bactive\b", page.inner_text("#deployments"), re.IGNORECASE)
    page.context.close()


def test_adjudicate_by_keyboard_undo_outcome_later_retain_and_the_audit_log_shows_each_step(
    browser: Any, world: World
) -> None:
    page = open_queue(browser, world.url)
    alert = world.raise_alert(similarity=0.83)
    card = f"#alert-{alert}"
    page.wait_for_selector(card)
    deadline = time.monotonic() + 10
    while not page.evaluate(f"document.querySelector('{card} img.probe').naturalWidth > 0"):
        assert time.monotonic() < deadline, "the probe image did not load"
        time.sleep(0.1)
    page.wait_for_selector(f"{card} .case:has-text('CASE-0001')")  # case reference and reason on the card
    assert "warrant" in page.inner_text(f"{card} .case")
    assert "wanted by court" in page.inner_text(f"{card} .cat")
    assert "undo" in page.inner_text("#shortcuts")
    assert re.match(r"^\(\d+\) ", page.title())  # unread count in the title
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "queue.png"))
    page.keyboard.press("j")  # select the newest card
    assert page.evaluate("document.activeElement.id") == f"alert-{alert}"
    page.keyboard.press("z")
    page.wait_for_selector(f"{card}.zoomed")  # the README's zoomed card: tests/web/test_console_scene.py
    page.keyboard.press("Escape")
    page.wait_for_selector(f"{card}:not(.zoomed)")
    # a verdict lands on the server at once; undo within the window is a server event: open again
    page.keyboard.press("f")
    page.wait_for_selector(f"{card}[data-state='false_match']")
    # (the push of the verdict may come before the server's answer: then the button follows it)
    page.wait_for_selector(f"{card} .undo:not([hidden]) .undo-btn:has-text('Undo (')")
    assert re.fullmatch(r"Undo \(\d+ s\) \(U\)", page.inner_text(f"{card} .undo-btn")), page.inner_text(f"{card} .undo")
    c = world.api("op")
    assert c.get(f"/api/v1/alerts/{alert}").json()["adjudication"] == "false_match"
    page.keyboard.press("u")
    page.wait_for_selector(f"{card}[data-state='open']")
    page.wait_for_selector(f"{card} .undo", state="hidden")
    assert c.get(f"/api/v1/alerts/{alert}").json()["adjudication"] is None
    c.close()
    assert "verdict undone: open again" in page.inner_text(f"{card} .history")
    # confirm with an outcome, by keyboard only
    page.keyboard.press("1")
    page.keyboard.press("c")
    page.wait_for_selector(f"{card}[data-state='true_match']", timeout=15_000)
    state = page.inner_text(f"{card} .state")
    assert "Confirmed match · engaged — by op at" in state
    # an outcome learnt later, and retention as evidence: new events, the verdict is not edited
    page.keyboard.press("2")
    page.keyboard.press("o")
    page.wait_for_selector(f"{card} .history li:text('outcome added: arrested')")
    # retained for the period the operator chose, with the required reason
    page.keyboard.press("r")  # no reason yet: the reason field is focused
    assert page.evaluate("document.activeElement.className") == "retain-reason"
    page.select_option(f"{card} .retain-days", "other")
    page.fill(f"{card} .retain-custom", "45")
    page.fill(f"{card} .retain-reason", "needed for the court case")
    page.press(f"{card} .retain-reason", "Enter")
    page.wait_for_selector(f"{card} .retain:text('Retained until')")
    # the verdict stands, with the outcome learnt later (the first outcome stays in the audit log)
    assert "Confirmed match · arrested — by op at" in page.inner_text(f"{card} .state")
    page.context.close()
    aud = login_page(browser, world.url, "aud")
    aud.goto(world.url + "/audit")
    aud.wait_for_selector("#audit tbody tr")
    aud.wait_for_selector("#audit-count:text('matching entries')")
    unfiltered = aud.inner_text("#audit-count")
    aud.fill("#f-action", "alert.")  # filtered: the alert steps, by the operator
    aud.fill("#f-actor", "op")
    aud.click("#f-apply")
    deadline = time.monotonic() + 10
    while aud.inner_text("#audit-count") == unfiltered:
        assert time.monotonic() < deadline, "the filter was not applied"
        time.sleep(0.1)
    text = aud.inner_text("#audit")
    assert set(re.findall(r"\b(?:op|aud|admin|wm|officer)\b", text)) == {"op"}, text
    target = f"alert:{alert}"
    for action in (
        "alert.case_viewed",
        "alert.adjudicated",
        "alert.verdict_undone",
        "alert.outcome_added",
        "alert.retained",
    ):
        assert re.search(rf"{re.escape(action)}\s+{re.escape(target)}\b", text), action
    # the undone verdict stays on record beside the undo; the verdict that stands came after it
    assert re.search(rf"alert\.verdict_undone\s+{re.escape(target)}\s+undid=verdict verdict=false_match", text), text
    assert len(re.findall(rf"alert\.adjudicated\s+{re.escape(target)}\b", text)) == 2
    assert re.search(rf"alert\.retained\s+{re.escape(target)}\s+[^\n]*days=45", text), text  # the chosen period
    aud.context.close()
