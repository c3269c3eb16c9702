from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from overt.cli.app import main
from tests.pipeline.conftest import altered


@pytest.fixture
def watchlist_dir(tmp_path: Path, yaoming_bgr: npt.NDArray[np.uint8], players_bgr: npt.NDArray[np.uint8]) -> Path:
    root = tmp_path / "wl"
    (root / "subject-a").mkdir(parents=True)
    (root / "subject-b").mkdir()
    cv2.imwrite(str(root / "subject-a" / "good.jpg"), altered(yaoming_bgr))
    cv2.imwrite(str(root / "subject-a" / "blank.png"), np.full((200, 200, 3), 90, np.uint8))
    (root / "subject-a" / "notes.txt").write_text("not an image")
    cv2.imwrite(str(root / "subject-b" / "team.jpg"), players_bgr)
    return root


def test_enrol_reports_accepted_and_rejected_with_reasons(
    watchlist_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["watchlist", "enrol", str(watchlist_dir), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["subjects"] == 1
    assert out["templates"] == 1
    assert [a["subject"] for a in out["accepted"]] == ["subject-a"]
    reasons = {Path(r["image"]).name: r["reason"] for r in out["rejected"]}
    assert "no face" in reasons["blank.png"]
    assert "faces found, expected exactly one" in reasons["team.jpg"]
    assert "not an image" in reasons["notes.txt"]


def test_enrol_table_output(watchlist_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watchlist", "enrol", str(watchlist_dir)]) == 0
    out = capsys.readouterr().out
    assert "Enrolled 1 image(s) of 1 subject(s); rejected 3" in out


def test_enrol_nothing_enrollable_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "s").mkdir()
    cv2.imwrite(str(tmp_path / "s" / "blank.png"), np.zeros((64, 64, 3), np.uint8))
    assert main(["watchlist", "enrol", str(tmp_path)]) == 3
    assert "could be enrolled" in capsys.readouterr().err
    assert main(["watchlist", "enrol", str(tmp_path / "missing")]) == 3
