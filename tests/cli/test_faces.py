from __future__ import annotations

import json
from pathlib import Path

import pytest

from overt.samples import sample_image
from tests.cli.conftest import one_line_error, run


def test_faces_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "faces", str(sample_image("yaoming")), str(sample_image("gdp")), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert [len(d["faces"]) for d in data] == [1, 5]
    assert data[0]["width_px"] == 233
    assert data[0]["height_px"] == 287
    face = data[0]["faces"][0]
    assert set(face) >= {"xyxy", "landmarks5", "quality", "enrolment_ok", "enrolment_issues"}
    assert len(face["xyxy"]) == 4
    assert len(face["landmarks5"]) == 5
    assert set(face["quality"]) == {"size_px", "inter_eye_px", "det_score", "sharpness", "yaw_deg", "roll_deg"}
    assert face["enrolment_ok"] is True


def test_faces_table(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((50, 80, 3), 128, np.uint8)).save(blank)
    code, out, _ = run(capsys, "faces", str(sample_image("gdp")), str(blank))
    assert code == 0
    assert "5 faces" in out
    assert "0 faces" in out
    assert "(80x50)" in out


@pytest.mark.parametrize("kind", ["missing", "zero", "text", "dir"])
def test_faces_bad_files(capsys: pytest.CaptureFixture[str], tmp_path: Path, kind: str) -> None:
    p = tmp_path / "photo.jpg"
    if kind == "zero":
        p.write_bytes(b"")
    elif kind == "text":
        p.write_text("hello")
    elif kind == "dir":
        p.mkdir()
    code, _, err = run(capsys, "faces", str(p))
    assert code == 3
    line = one_line_error(err)
    assert line.startswith("overt: error:")
    assert "photo.jpg" in line
