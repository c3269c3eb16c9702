"""Servers for the attack reproductions: a real Overt server over a fresh data directory."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from overt.audit.log import AuditEntry
from tests.api.conftest import Running, start_server

DEPLOYMENT = {
    "purpose": "find a wanted person",
    "legal_basis": "PACE",
    "place": "station",
    "planned_start": "2026-01-01T00:00:00Z",
    "planned_end": "2036-01-01T00:00:00Z",
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
