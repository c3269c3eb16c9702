"""``overt public set`` (admin only, audited, into the data dir) and ``overt publish --out DIR``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_governance_cli import data_dir, run  # noqa: F401  (the data-dir fixture with users)


def test_admin_sets_contact_fields_and_publish_writes_the_static_site(
    data_dir: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    args = ("public", "set", "--force-name", "Example Constabulary", "--contact-email", "lfr@example.org",
            "--equality-assessment-url", "https://example.org/eia.pdf", "--data-dir", str(data_dir))  # fmt: skip
    rc, _, err = run(capsys, monkeypatch, "op", *args)
    assert rc != 0  # only an admin
    rc, _, err = run(capsys, monkeypatch, "admin", *args)
    assert rc == 0, err
    rc, _, err = run(capsys, monkeypatch, "admin", "public", "set", "--dpia-url", "javascript:x", "--data-dir",
                     str(data_dir))  # fmt: skip
    assert rc != 0
    assert "http(s)" in err
    cfg = json.loads((data_dir / "overt.json").read_text())
    assert cfg["public"]["contact_email"] == "lfr@example.org"
    assert cfg["notice_lead_time_h"] == 24.0
    out = tmp_path / "site"
    rc, _, err = run(capsys, monkeypatch, None, "publish", "--out", str(out), "--data-dir", str(data_dir))
    assert rc == 0, err
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert names == sorted(["index.html", "retention.html", "rights.html", "deployments.json", "deployments.csv",
                            "feed.atom", "style.css"])  # fmt: skip
    rights = (out / "rights.html").read_text()
    assert "Example Constabulary" in rights
    assert 'href="https://example.org/eia.pdf"' in rights
    assert json.loads((out / "deployments.json").read_text())["deployments"] == []
    rc, shown, err = run(capsys, monkeypatch, "admin", "audit", "show", "--action", "public.settings_changed", "--json")
    assert rc == 0, err
    assert len(json.loads(shown)) == 1  # the admin's change is audited (the refused ones changed nothing)
