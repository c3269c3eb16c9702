"""Property-based requests from the OpenAPI (schemathesis): no input makes the server fail (5xx).

Every operation is called with generated data as an admin and as an operator (bearer
tokens, so no CSRF), a bounded number of examples each so the run stays well under 2 min.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.core.result import Ok

from tests.api.conftest import Running

pytestmark = pytest.mark.slow
MAX_EXAMPLES = 6


@pytest.fixture(scope="module")
def api_schema(running: Running) -> Any:
    return schemathesis.openapi.from_url(running.url + "/api/openapi.json")


@pytest.fixture(scope="module")
def bearer(running: Running) -> dict[str, dict[str, str]]:
    out = {}
    for user in ("admin", "op"):
        c = running.login(user)  # a user token acts only as the user who mints it
        r = c.post("/api/v1/tokens", json={"name": f"fuzz-{user}", "kind": "user"})
        assert r.status_code == 201, r.text
        out[user] = {"Authorization": f"Bearer {r.json()['token']}"}
        c.close()
    return out


def _send(case: Any, base_url: str, headers: dict[str, str]) -> Any:
    return case.call(base_url=base_url, headers=headers, timeout=30)


def test_no_input_makes_the_server_fail(running: Running, bearer: dict[str, dict[str, str]]) -> None:
    schema = schemathesis.openapi.from_url(running.url + "/api/openapi.json")
    failures: list[str] = []
    calls = 0
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            failures.append(f"invalid operation in the schema: {result}")
            continue
        op = result.ok()
        if op.path == "/api/v1/auth/logout" or (op.method.upper() == "DELETE" and op.path.startswith("/api/v1/tokens")):
            continue  # would end the fuzzing credentials
        if op.path.endswith(("/disable", "/password-reset")):
            continue  # would revoke the fuzzing tokens (tests/security covers these routes)

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        @given(case=op.as_strategy())
        def run(case: Any) -> None:
            nonlocal calls
            for headers in bearer.values():
                r = _send(case, running.url, headers)
                calls += 1
                if r.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} -> {r.status_code}: {r.text[:200]}")

        run()
    assert calls > 100
    assert not failures, "\n".join(failures[:20])
