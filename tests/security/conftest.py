"""Servers for the attack reproductions: a real Overt server over a fresh data directory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from overt.audit.log import AuditEntry
from tests.api.conftest import Running, start_server

_NOW = datetime.now(UTC).replace(microsecond=0)
DEPLOYMENT = {
    "purpose": "find a wanted person",
    "legal_basis": "PACE",
    "place": "station",
    # inside the data dir's policy (at most 12 h): from an hour ago to ten hours from now
    "planned_start": (_NOW - timedelta(hours=1)).isoformat(),
    "planned_end": (_NOW + timedelta(hours=10)).isoformat(),
    "criteria": "court warrant",
    "categories": ["wanted_by_court"],
    "min_similarity": 0.5,
    "threshold_justification": "calibrated",
}


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    r = start_server(tmp_path_factory.mktemp("sec") / "data")
    yield r
    r.server.stop()
    r.store.db.dispose()


def audit(running: Running) -> list[AuditEntry]:
    with running.store.transaction() as tx:
        return list(tx.audit.entries())


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def csrf_client(running: Running) -> httpx.Client:
    c = running.client()
    c.headers["X-CSRF-Token"] = c.get("/api/v1/auth/csrf").json()["csrf_token"]
    return c
