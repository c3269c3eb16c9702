"""``overt init`` is all or nothing: a failure leaves no file behind and a retry works."""

from __future__ import annotations

from pathlib import Path

import pytest

from overt.cli.app import main


def _init(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], d: Path, *args: str) -> tuple[int, str]:
    rc = main(["init", "--admin", "admin", "--data-dir", str(d), *args])
    return rc, capsys.readouterr().err


def test_a_too_short_password_leaves_nothing_and_the_retry_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    d = tmp_path / "data"
    monkeypatch.setenv("OVERT_PASSWORD", "short")
    rc, err = _init(monkeypatch, capsys, d)
    assert rc == 3
    assert "at least 12 characters" in err
    assert not d.exists()
    monkeypatch.setenv("OVERT_PASSWORD", "a-long-enough-password")
    rc, err = _init(monkeypatch, capsys, d)
    assert rc == 0, err
    assert {p.name for p in d.iterdir()} >= {"overt.json", "kek.key", "overt.db"}


def test_a_failure_after_files_were_written_removes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    d = tmp_path / "existing"
    d.mkdir()
    (d / "notes.txt").write_text("mine")
    monkeypatch.setenv("OVERT_PASSWORD", "a-long-enough-password")
    # A well-formed URL (checked before anything is written) to a server that refuses the connection:
    # init fails after the key and config were written.
    bad_db = "postgresql+psycopg://u:p@127.0.0.1:1/x"
    rc, err = _init(monkeypatch, capsys, d, "--database-url", bad_db)
    assert rc == 5, err
    assert [p.name for p in d.iterdir()] == ["notes.txt"]  # what was there stays, nothing else
    rc, err = _init(monkeypatch, capsys, d)
    assert rc == 0, err
