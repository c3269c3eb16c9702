from __future__ import annotations

import json

import pytest

from tests.cli.conftest import run


def test_demo_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "demo", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["faces_found"] == {"yaoming": 1, "gdp": 5, "players": 23}
    assert data["same_person_similarity"] > 0.8
    assert data["team_photo_matches"] == 1  # Yao Ming himself, nobody else
    assert data["team_photo_faces"] == 23


def test_demo_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "demo")
    assert code == 0
    assert "same person" in out
    assert "Nothing was written" in out


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.startswith("overt ")
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for cmd in ("faces", "compare", "models", "demo", "eval"):
        assert cmd in out


@pytest.mark.parametrize("args", [["no-such-command"], ["compare"], ["faces", "--bogus", "x.jpg"]])
def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    from tests.cli.conftest import one_line_error

    code, _, err = run(capsys, *args)
    assert code == 2
    assert one_line_error(err).startswith("overt: error:")
