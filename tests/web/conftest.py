"""Fixtures of the console's browser tests: Debian's Chromium through Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.helpers import CHROMIUM
from tests.web.test_console_e2e import ARGS


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Overridden by test modules that launch their own."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()
