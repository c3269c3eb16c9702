"""A private PostgreSQL cluster that a test may restart (never the shared CI server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres_fixture import PgCluster, private_cluster


@pytest.fixture
def pg_cluster() -> Iterator[PgCluster]:
    with private_cluster() as cluster:
        yield cluster
