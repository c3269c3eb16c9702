"""The OpenAPI document is a committed contract: any change shows up as a diff here.

Regenerate after an intended change:  python -m overt.api.openapi_dump tests/api/openapi.json
"""

from __future__ import annotations

import json
from pathlib import Path

from overt.api.openapi_dump import dumps, openapi_document

SNAPSHOT = Path(__file__).with_name("openapi.json")


def test_openapi_matches_the_committed_snapshot() -> None:
    current = dumps(openapi_document())
    committed = SNAPSHOT.read_text(encoding="utf-8")
    assert current == committed, (
        "the API changed; if on purpose run: python -m overt.api.openapi_dump tests/api/openapi.json"
    )


def test_no_route_serves_templates() -> None:
    doc = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    for path, ops in doc["paths"].items():
        assert "template" not in path.lower()
        for op in ops.values():
            assert op["x-roles"], f"{path} declares no roles"
    text = json.dumps(doc["components"]["schemas"]).lower()
    assert '"template"' not in text
    assert "embedding" not in text
