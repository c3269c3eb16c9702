from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from overt.samples import sample_image
from overt.vision.detectors.scrfd import ScrfdDetector
from overt.vision.imageio import read_image
from tests.cli.conftest import one_line_error, run

JSON_KEYS = {"pairs", "accuracy", "accuracy_std", "tar_at_far", "detect_failures", "threshold"}


@pytest.fixture(scope="module")
def lfw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny LFW layout: four people (Yao Ming and three faces of gdp.jpg), two photos each."""
    root = tmp_path_factory.mktemp("lfw")
    people: dict[str, npt.NDArray[np.uint8]] = {"Yao_Ming": read_image(sample_image("yaoming"))}
    gdp = read_image(sample_image("gdp"))
    dets = ScrfdDetector().detect(gdp)
    for name, i in (("Person_A", 0), ("Person_B", 1), ("Person_C", 2)):
        x1, y1, x2, y2 = dets.xyxy[i]
        m = 0.6 * (x2 - x1)
        people[name] = gdp[max(0, int(y1 - m)) : int(y2 + m), max(0, int(x1 - m)) : int(x2 + m)].copy()
    for name, img in people.items():
        (root / "images" / name).mkdir(parents=True)
        cv2.imwrite(str(root / "images" / name / f"{name}_0001.jpg"), img)
        second = cv2.resize(cv2.flip(img, 1), None, fx=0.8, fy=0.8)
        cv2.imwrite(str(root / "images" / name / f"{name}_0002.jpg"), second, [cv2.IMWRITE_JPEG_QUALITY, 70])
    (root / "pairs.txt").write_text(
        "2\t2\n"
        "Yao_Ming\t1\t2\nPerson_A\t1\t2\nYao_Ming\t1\tPerson_A\t1\nPerson_B\t1\tPerson_C\t2\n"
        "Person_B\t1\t2\nPerson_C\t1\t2\nYao_Ming\t2\tPerson_B\t1\nPerson_A\t2\tPerson_C\t1\n",
        encoding="utf-8",
    )
    return root


def test_eval_lfw_pairs_json(capsys: pytest.CaptureFixture[str], lfw_dir: Path, tmp_path: Path) -> None:
    roc = tmp_path / "roc.png"
    code, out, err = run(
        capsys,
        "eval",
        "pairs",
        "--lfw-pairs",
        str(lfw_dir / "pairs.txt"),
        "--images",
        str(lfw_dir / "images"),
        "--roc",
        str(roc),
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert set(data) >= JSON_KEYS
    assert set(data["tar_at_far"]) == {"0.01", "0.001"}
    assert data["pairs"] == 8
    assert data["detect_failures"] == 0
    assert data["accuracy"] == 1.0
    assert roc.read_bytes()[:4] == b"\x89PNG"


def test_eval_csv_table_counts_failures(capsys: pytest.CaptureFixture[str], lfw_dir: Path, tmp_path: Path) -> None:
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((100, 100, 3), 50, np.uint8))
    imgs = lfw_dir / "images"
    csv = tmp_path / "pairs.csv"
    csv.write_text(
        "path_a,path_b,same\n"
        f"{imgs}/Yao_Ming/Yao_Ming_0001.jpg,{imgs}/Yao_Ming/Yao_Ming_0002.jpg,1\n"
        f"{imgs}/Yao_Ming/Yao_Ming_0001.jpg,{blank},1\n"
        f"{imgs}/Yao_Ming/Yao_Ming_0001.jpg,{imgs}/Person_A/Person_A_0001.jpg,0\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "eval", "pairs", "--csv", str(csv), "--roc", str(tmp_path / "r.png"))
    assert code == 0, err
    assert "detection failures" in out
    assert "1 / 1" in out
    code, out, _ = run(capsys, "eval", "pairs", "--csv", str(csv), "--roc", str(tmp_path / "r.png"), "--json")
    data = json.loads(out)
    assert data["pairs"] == 3
    assert data["detect_failures"] == 1


@pytest.mark.parametrize(
    "args",
    [
        ["eval", "pairs"],
        ["eval", "pairs", "--csv", "a.csv", "--lfw-pairs", "p.txt"],
        ["eval", "pairs", "--lfw-pairs", "p.txt"],
    ],
)
def test_eval_argument_errors(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, _, err = run(capsys, *args)
    assert code == 2
    one_line_error(err)


def test_eval_missing_csv(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "eval", "pairs", "--csv", str(tmp_path / "none.csv"))
    assert code == 3
    assert "none.csv" in one_line_error(err)
