from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from overt.crypto.keys import KeyStore, MemoryKeyStore
from overt.domain.clock import FakeClock
from overt.store import Database, Store

OpenStore = Callable[..., Store]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'overt.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def open_store(db_url: str, clock: FakeClock) -> Iterator[OpenStore]:
    """Open stores on the test database; their engines are disposed at teardown."""
    dbs: list[Database] = []

    def _open(keys: KeyStore | None = None) -> Store:
        db = Database(db_url)
        dbs.append(db)
        return Store(db, keys or MemoryKeyStore(), clock=clock).open()

    yield _open
    for db in dbs:
        db.dispose()


@pytest.fixture
def store(open_store: OpenStore) -> Store:
    return open_store()
