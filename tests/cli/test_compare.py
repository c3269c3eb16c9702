from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from overt.samples import sample_image
from overt.vision.imageio import read_image
from tests.cli.conftest import one_line_error, run


@pytest.fixture(scope="module")
def altered_yao(tmp_path_factory: pytest.TempPathFactory) -> Path:
    img = read_image(sample_image("yaoming"))
    p = tmp_path_factory.mktemp("cmp") / "altered.jpg"
    cv2.imwrite(str(p), cv2.resize(cv2.flip(img, 1), None, fx=0.7, fy=0.7), [cv2.IMWRITE_JPEG_QUALITY, 60])
    return p


@pytest.fixture(scope="module")
def blank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("cmp") / "blank.png"
    cv2.imwrite(str(p), np.full((200, 200, 3), 90, np.uint8))
    return p


def test_compare_same_person_json(capsys: pytest.CaptureFixture[str], altered_yao: Path) -> None:
    code, out, err = run(capsys, "compare", str(sample_image("yaoming")), str(altered_yao), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["same_person"] is True
    assert data["similarity"] > 0.8
    assert data["min_similarity"] == pytest.approx(0.30)
    assert data["model"] == "arcface_w600k_mbf"


def test_compare_table_and_threshold_option(capsys: pytest.CaptureFixture[str], altered_yao: Path) -> None:
    code, out, _ = run(capsys, "compare", str(sample_image("yaoming")), str(altered_yao), "--min-similarity", "0.999")
    assert code == 0
    assert "DIFFERENT PEOPLE" in out
    assert "threshold 0.999" in out


def test_compare_picks_from_a_group(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "compare", str(sample_image("gdp")), str(sample_image("yaoming")), "--pick", "largest", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["same_person"] is False


def test_several_faces_with_pick_one(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "compare", str(sample_image("gdp")), str(sample_image("yaoming")))
    assert code == 3
    assert "5 faces found, expected exactly one" in one_line_error(err)


def test_no_face(capsys: pytest.CaptureFixture[str], blank: Path) -> None:
    code, _, err = run(capsys, "compare", str(blank), str(sample_image("yaoming")))
    assert code == 3
    assert "blank.png: no face found" in one_line_error(err)


def test_bad_pick_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "compare", "a.jpg", "b.jpg", "--pick", "best")
    assert code == 2
    assert "--pick" in one_line_error(err)


def test_missing_second_image(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "compare", str(sample_image("yaoming")), str(tmp_path / "gone.jpg"))
    assert code == 3
    assert "gone.jpg: no such file" in one_line_error(err)
