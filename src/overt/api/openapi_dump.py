"""Write the API's OpenAPI document: ``python -m overt.api.openapi_dump tests/api/openapi.json``.

The committed snapshot (tests/api/openapi.json) is diffed by tests/api/test_openapi.py;
regenerate it with this command after changing a route on purpose.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from overt.api.app import create_app
from overt.api.settings import ApiSettings
from overt.crypto.keys import MemoryKeyStore
from overt.store.db import Database
from overt.store.store import Store


def openapi_document() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'openapi.db'}")
        try:
            store = Store(db, MemoryKeyStore()).open()
            return create_app(ApiSettings(), store=store).openapi()
        finally:
            db.dispose()


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    text = dumps(openapi_document())
    if argv:
        Path(argv[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
