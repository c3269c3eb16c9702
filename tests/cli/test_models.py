from __future__ import annotations

import json
from pathlib import Path

import pytest

from overt.samples import sample_image
from tests.cli.conftest import one_line_error, run

WRONG_SHA = "ab" * 32


def _config_with_wrong_sha(tmp_path: Path) -> Path:
    from overt.vision.models import ModelRegistry

    real = ModelRegistry().verified_path("arcface_w600k_mbf")
    cfg = tmp_path / "overt.toml"
    cfg.write_text(
        f"""
[[engine.models]]
id = "tampered"
kind = "embedder"
path = "{real}"
sha256 = "{WRONG_SHA}"
embedding_size = 512

[engine.embedder]
type = "arcface"
model_id = "tampered"
""",
        encoding="utf-8",
    )
    return cfg


def test_models_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "models", "--json")
    assert code == 0, err
    rows = {r["id"]: r for r in json.loads(out)}
    arc = rows["arcface_w600k_mbf"]
    assert arc["status"] == "verified"
    assert "non-commercial" in arc["licence"]
    assert arc["embedding_size"] == 512
    assert arc["default_threshold"] == pytest.approx(0.30)
    assert {"id", "kind", "status", "path", "sha256", "licence", "published_accuracy", "metric"} <= set(arc)
    assert rows["dlib_resnet_v1"]["licence"].startswith("public domain")


def test_models_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "models")
    assert code == 0
    assert "scrfd_500m_bnkps" in out
    assert "verified" in out


def test_models_reports_a_sha_mismatch(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "--config", str(_config_with_wrong_sha(tmp_path)), "models", "--json")
    assert code == 0
    rows = {r["id"]: r for r in json.loads(out)}
    assert rows["tampered"]["status"] == "FAILED"
    assert "sha256 mismatch" in rows["tampered"]["problem"]


def test_using_a_model_with_a_sha_mismatch_fails_cleanly(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    img = str(sample_image("yaoming"))
    code, _, err = run(capsys, "--config", str(_config_with_wrong_sha(tmp_path)), "compare", img, img)
    assert code == 4
    line = one_line_error(err)
    assert "tampered" in line
    assert "sha256 mismatch" in line


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[engine\n", "config file"),
        ("[engine]\nsurprise = 1\n", "engine.surprise"),
        ('[engine.detector]\ntype = "yolo"\n', "engine.detector"),
        ('[engine.detector]\ntype = "scrfd"\nupsample = 2\n', "upsample"),
    ],
)
def test_bad_config(capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, match: str) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text, encoding="utf-8")
    code, _, err = run(capsys, "--config", str(cfg), "models")
    assert code == 2
    assert match in one_line_error(err)


def test_missing_config(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "--config", str(tmp_path / "nope.toml"), "models")
    assert code == 2
    assert "not found" in one_line_error(err)
