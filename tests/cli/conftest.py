"""Helpers for running the CLI in-process: ``run(capsys, ...)`` gives (code, stdout, stderr)."""

from __future__ import annotations

import pytest

from overt.cli.app import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    """The whole of stderr must be one line, no traceback."""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture(autouse=True)
def _no_env_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OVERT_CONFIG", raising=False)
    monkeypatch.delenv("OVERT_DEBUG", raising=False)
