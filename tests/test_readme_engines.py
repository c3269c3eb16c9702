"""The README's licence-clean engine block selects YuNet + SFace, and a command runs with it."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from overt.cli.app import main
from overt.config import load_config
from overt.samples import sample_image
from tests.conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def licence_clean_block() -> str:
    m = re.search(r"<!-- licence-clean-engine -->\s*```toml\n(.*?)```", README, flags=re.S)
    assert m is not None, "README lost its licence-clean engine block"
    return m.group(1)


def test_block_selects_yunet_and_sface(tmp_path: Path) -> None:
    path = tmp_path / "overt.toml"
    path.write_text(licence_clean_block(), encoding="utf-8")
    cfg = load_config(path)
    assert cfg.engine.detector.type == "yunet"
    assert cfg.engine.embedder.model_id == "sface_2021dec"  # type: ignore[union-attr]


def test_commands_run_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "overt.toml").write_text(licence_clean_block(), encoding="utf-8")
    shutil.copyfile(sample_image("yaoming"), tmp_path / "yaoming.jpg")
    shutil.copyfile(sample_image("gdp"), tmp_path / "gdp.jpg")
    capsys.readouterr()
    assert main(["--config", "overt.toml", "compare", "yaoming.jpg", "gdp.jpg", "--pick", "largest", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["same_person"] is False
    assert main(["--config", "overt.toml", "faces", "--json", "gdp.jpg"]) == 0
    faces = json.loads(capsys.readouterr().out)
    assert len(faces[0]["faces"]) == 6  # YuNet: the 5 faces SCRFD finds and a blurred one behind


@pytest.mark.slow
def test_demo_runs_with_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "overt.toml"
    cfg.write_text(licence_clean_block(), encoding="utf-8")
    capsys.readouterr()
    assert main(["--config", str(cfg), "demo", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [a["subject"] for a in out["alerts"]] == ["YM-0001"]
    assert out["alerts"][0]["frame_index"] >= out["subject_first_visible_frame"]
