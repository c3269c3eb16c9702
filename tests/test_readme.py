"""The README's opening commands and every ``$ overt ...`` example actually work."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import cv2
import pytest

from overt.cli.app import main
from overt.samples import sample_image
from overt.vision.imageio import read_image
from tests.conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


SESSION = re.compile(r"<!-- readme-session:[^>]*-->\n```console\n(.*?)```", flags=re.S)


def _commands(block: str) -> list[str]:
    return [ln[2:].split("  #")[0].strip() for ln in block.splitlines() if ln.startswith("$ overt ")]


def readme_examples() -> list[str]:
    """Lines that run on their own (blocks marked ``readme-session`` run as one sequence)."""
    text = SESSION.sub("", README)
    return [c for block in re.findall(r"```console\n(.*?)```", text, flags=re.S) for c in _commands(block)]


def readme_sessions() -> list[list[str]]:
    return [_commands(block) for block in SESSION.findall(README)]


def test_readme_opens_with_the_two_commands() -> None:
    first_block = re.search(r"```console\n(.*?)```", README, flags=re.S)
    assert first_block is not None
    commands = [ln.split("#")[0].strip() for ln in first_block.group(1).splitlines() if ln.strip()]
    assert commands == ["make demo", "make test"]
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo:", makefile, flags=re.M)
    assert re.search(r"^test:", makefile, flags=re.M)
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci


def _make_eval_inputs(cwd: Path) -> None:
    """pairs.csv and an LFW-layout folder + pairs.txt built from the sample photos."""
    yao = read_image(sample_image("yaoming"))
    small = cv2.resize(yao, None, fx=0.8, fy=0.8)
    for name, imgs in {"Yao_Ming": [yao, cv2.flip(yao, 1), small], "Someone_Else": []}.items():
        (cwd / "lfw" / name).mkdir(parents=True)
        for i, img in enumerate(imgs, start=1):
            cv2.imwrite(str(cwd / "lfw" / name / f"{name}_{i:04d}.jpg"), img)
    shutil.copyfile(sample_image("gdp"), cwd / "lfw" / "Someone_Else" / "Someone_Else_0001.jpg")
    (cwd / "pairs.txt").write_text("Yao_Ming\t1\t2\nYao_Ming\t2\t3\nYao_Ming\t1\tSomeone_Else\t1\n", encoding="utf-8")
    (cwd / "pairs.csv").write_text(
        "path_a,path_b,same\nlfw/Yao_Ming/Yao_Ming_0001.jpg,lfw/Yao_Ming/Yao_Ming_0002.jpg,1\n"
        "lfw/Yao_Ming/Yao_Ming_0001.jpg,lfw/Someone_Else/Someone_Else_0001.jpg,0\n",
        encoding="utf-8",
    )


@pytest.mark.parametrize("command", readme_examples())
def test_readme_example_runs(command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["samples", "."]) == 0
    _make_eval_inputs(tmp_path)
    argv = shlex.split(command)[1:]
    assert main(argv) == 0, command


@pytest.mark.slow
@pytest.mark.parametrize("session", readme_sessions())
def test_readme_session_runs(session: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``readme-session`` block: its commands in order in one folder (e.g. calibrate -> deployment)."""
    from tests.evaluation.tiny_faces import make_identities

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OVERT_DATA_DIR", raising=False)
    monkeypatch.setenv("OVERT_PASSWORD", "readme-password")
    monkeypatch.setenv("OVERT_NEW_PASSWORD", "readme-password")
    assert main(["samples", "."]) == 0
    make_identities(tmp_path / "identities", n_ids=12, per_id=3)
    for command in session:
        assert main(shlex.split(command)[1:]) == 0, command
