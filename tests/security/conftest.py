"""A real Overt server on a fresh data directory per attack module (attacks change its state)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.conftest import Running, start_server


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    r = start_server(tmp_path_factory.mktemp("attack") / "data")
    yield r
    r.server.stop()
    r.store.db.dispose()
