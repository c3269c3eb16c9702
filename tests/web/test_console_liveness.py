"""The console in Chromium shows each camera's heartbeat from the database, whoever sends it: an
edge node's (posted with its device token) and a pipeline's on another process (written to the
store), LIVE with its age, then STALE once beats stop; the deployment page says "processing
frames" only while one is live."""

from __future__ import annotations

import re
import time
from typing import Any

from overt.deployments.liveness import Liveness
from overt.pipeline.heartbeat import LIVE_WITHIN_S, CameraReport
from tests.web.helpers import BROWSER_MARKS, World, open_queue, world_fixture

pytestmark = BROWSER_MARKS


world = world_fixture("liveness")


def test_edge_and_pipeline_cameras_are_live_then_stale_in_the_console(browser: Any, world: World) -> None:
    dep = world.deployment
    page = open_queue(browser, world.url)
    page.wait_for_selector("#pipe-state:text('No camera is sending frames')")
    r = world.device.post(
        f"/api/v1/deployments/{dep}/heartbeat",
        json={"cameras": [{"camera_id": "cam-1", "frames": 120, "fps": 25.0, "age_s": 0.2}]},
    )
    assert r.status_code == 202, r.text
    Liveness(world.store).record(dep, [CameraReport("cam-2", 80, 12.5, 0.1)])  # a pipeline elsewhere
    page.wait_for_selector(f"#pipe-state:text('cam-1 (#{dep}, edge) live')", timeout=10_000)
    pill = page.inner_text("#pipe-state")
    assert f"cam-2 (#{dep}) live" in pill, pill
    assert "pill on" in (page.get_attribute("#pipe-state", "class") or "")
    assert re.search(r"last frame \d+\.\d s ago", pill), pill

    dep_page = page.context.new_page()
    dep_page.goto(f"{world.url}/deployments/{dep}")
    dep_page.wait_for_selector("#dep-state:text('processing frames')")
    dep_page.wait_for_selector("#camera-state.on")

    time.sleep(LIVE_WITHIN_S)  # no beat since: stale (amber), never "live"
    page.wait_for_selector("#pipe-state:text('cam-1') >> text=STALE", timeout=10_000)
    assert "live" not in page.inner_text("#pipe-state")
    assert "pill warn" in (page.get_attribute("#pipe-state", "class") or "")
    dep_page.wait_for_selector("#dep-state:text('NOT processing')", timeout=10_000)
    assert "processing frames" not in dep_page.inner_text("#dep-state")
    page.context.close()
