"""A console test world: a server that restarts on the same port, an enrolled face, an active
deployment, a device that raises alerts; and logging a browser in."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from overt.api.app import create_app
from overt.api.settings import ApiSettings
from overt.api.testing import ServerThread
from overt.store.datadir import init_data_dir
from tests.api.conftest import PASSWORDS, Running, make_users
from tests.api.helpers import active_deployment, alert_body, device_client, enrol_yaoming

_ROOT = Path(__file__).resolve().parents[2]
DOC_SHOTS = _ROOT / ("docs" if os.environ.get("OVERT_UPDATE_SCREENSHOTS") else "artifacts") / "screenshots"
"""The README's screenshots are rewritten only with OVERT_UPDATE_SCREENSHOTS=1 (else into artifacts/)."""


class World:
    """One server that can be restarted on the same port over the same store."""

    def __init__(self, root: Path) -> None:
        self.store = init_data_dir(root / "data")
        make_users(self.store)
        self.data_dir = root / "data"
        self.server = self._serve(None)
        self.running = Running(self.server.url, self.store, self.data_dir, self.server)
        self.entry = enrol_yaoming(self.running)
        self.deployment = active_deployment(self.running)
        self.device = device_client(self.running, self.deployment)

    def _serve(self, port: int | None) -> ServerThread:
        settings = ApiSettings(data_dir=self.data_dir, secure_cookies=False, alert_poll_s=0.1, ws_heartbeat_s=1.0)
        return ServerThread(create_app(settings, store=self.store), port=port).start()

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.server.stop()

    def restart(self) -> None:
        port = self.server.port
        self.server.stop()
        self.server = self._serve(port)
        self.running.server = self.server

    def raise_alert(self, similarity: float = 0.71, **extra: Any) -> int:
        """``extra``: more fields of the device's alert (``scene_jpeg_b64``, ``pad``...)."""
        r = self.device.post("/api/v1/ingest/alerts", json=alert_body(self.entry, similarity=similarity) | extra)
        assert r.status_code == 201, r.text
        return int(r.json()["alert_id"])

    def end_sessions(self, user: str) -> None:
        assert self.server.app.state.auth.sessions.drop_user(user) >= 1

    def api(self, user: str) -> httpx.Client:
        return self.running.login(user)

    def close(self) -> None:
        self.device.close()
        self.stop()
        self.store.db.dispose()


def login_page(browser: Any, url: str, user: str, next_path: str = "/") -> Any:
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    page.goto(f"{url}/login?next={next_path}")
    page.fill("#username", user)
    page.fill("#password", PASSWORDS[user])
    page.click("#login-submit")
    page.wait_for_url(re.compile(r".*/(alerts|alert-log|deployments|watchlist|reports|audit|admin)(/\d+)?$"))
    return page


def open_queue(browser: Any, url: str, user: str = "op") -> Any:
    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    page = ctx.new_page()
    page.goto(url + "/login?next=/alerts")
    page.fill("#username", user)
    page.fill("#password", PASSWORDS[user])
    page.click("#login-submit")
    page.wait_for_url(re.compile(r".*/alerts$"))
    page.wait_for_selector("#feed-state:text('receiving alerts')", timeout=10_000)
    return page


CHROMIUM = Path("/usr/bin/chromium")
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]
"""The marks of every console test that drives Chromium (Playwright uses Debian's, never downloads one)."""


def world_fixture(prefix: str) -> Callable[[pytest.TempPathFactory], Iterator[World]]:
    """A module-scoped fixture: one console server over a fresh store for the test module."""

    @pytest.fixture(scope="module")
    def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
        w = World(tmp_path_factory.mktemp(prefix))
        yield w
        w.close()

    return world
