"""``overt keys signing``: the node's evidence-signing key is created once, audited, survives KEK rotation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from overt.crypto.signing import key_fingerprint
from tests.cli.test_governance_cli import data_dir, run  # noqa: F401  (fixture)


def test_signing_key_is_created_once_audited_and_survives_kek_rotation(
    data_dir: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import base64

    rc, out, err = run(capsys, monkeypatch, None, "keys", "signing", "--json")
    assert rc == 0, err
    first = json.loads(out)
    assert key_fingerprint(base64.b64decode(first["public_key_b64"])) == first["fingerprint"]
    rc, _, err = run(capsys, monkeypatch, "admin", "keys", "rotate", "--json")
    assert rc == 0, err
    rc, out, err = run(capsys, monkeypatch, None, "keys", "signing", "--json")
    assert rc == 0, err
    assert json.loads(out) == first  # the same key, re-wrapped under the new KEK
    rc, out, err = run(capsys, monkeypatch, "admin", "audit", "show", "--action", "node_key.created", "--json")
    assert rc == 0, err
    created = [e for e in json.loads(out) if e["action"] == "node_key.created"]
    assert len(created) == 1
    assert created[0]["details"]["fingerprint"] == first["fingerprint"]
    assert not (data_dir / "kek.key.new").exists()
