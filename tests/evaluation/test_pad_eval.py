"""``overt eval pad``: APCER/BPCER/ACER (ISO/IEC 30107-3) and a DET curve for a configured backend."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from overt.cli.app import main
from overt.config import PadConfig
from overt.evaluation.pad import pad_det, pad_rates
from tests.vision.pad_models import brightness_pad


def test_rates_follow_iso_30107_3() -> None:
    bona = np.array([0.9, 0.8, 0.3, 0.95])  # one live face rejected at 0.5
    attacks = np.array([0.1, 0.6, 0.2, 0.05, 0.4])  # one attack accepted
    r = pad_rates(bona, attacks, 0.5)
    assert r.apcer == pytest.approx(0.2)
    assert r.bpcer == pytest.approx(0.25)
    assert r.acer == pytest.approx(0.225)
    _ths, apcer, bpcer = pad_det(bona, attacks)
    assert apcer[0] == 1.0
    assert bpcer[0] == 0.0
    assert apcer[-1] == 0.0
    assert bpcer[-1] == 1.0
    assert np.all(np.diff(apcer) <= 0)
    assert np.all(np.diff(bpcer) >= 0)


def _config(tmp_path: Path, cfg: PadConfig) -> Path:
    toml = tmp_path / "overt.toml"
    toml.write_text(
        "[pipeline.pad]\n"
        f'type = "onnx"\nmodel_path = "{cfg.model_path}"\nsha256 = "{cfg.sha256}"\n'
        f"input_size_px = {cfg.input_size_px}\nlive_index = {cfg.live_index}\nthreshold = 0.5\n"
    )
    return toml


def _folder(root: Path, images: list[npt.NDArray[np.uint8]]) -> Path:
    root.mkdir()
    for i, img in enumerate(images):
        cv2.imwrite(str(root / f"{i}.png"), img)
    return root


def test_eval_pad_cli_reports_rates_and_a_det_curve(
    tmp_path: Path, yaoming_bgr: npt.NDArray[np.uint8], capsys: pytest.CaptureFixture[str]
) -> None:
    toml = _config(tmp_path, brightness_pad(tmp_path / "pad.onnx"))
    face = yaoming_bgr.astype(np.float32)
    bright = [np.clip(face * 0.6 + 110 + k, 0, 255).astype(np.uint8) for k in (0, 10, 20)]
    dark = [np.clip(face * 0.4 + k, 0, 255).astype(np.uint8) for k in (0, 5)] + [bright[0]]  # one attack passes
    real, attack = _folder(tmp_path / "real", bright), _folder(tmp_path / "attack", dark)
    det = tmp_path / "det.png"
    argv = ["--config", str(toml), "eval", "pad", "--real", str(real), "--attack", str(attack)]
    assert main([*argv, "--det", str(det), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["bona_fide"] == 3
    assert out["attacks"] == 3
    assert out["no_face"] == 0
    assert out["apcer"] == pytest.approx(1 / 3)
    assert out["bpcer"] == 0.0
    assert out["acer"] == pytest.approx(1 / 6)
    assert det.read_bytes().startswith(b"\x89PNG")
    assert main([*argv, "--det", str(det), "--no-detect", "--threshold", "1.0"]) == 0
    assert "APCER" in capsys.readouterr().out


def test_eval_pad_without_a_configured_model_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "r").mkdir()
    assert main(["eval", "pad", "--real", str(tmp_path / "r"), "--attack", str(tmp_path / "r")]) == 2
    assert "ships none" in capsys.readouterr().err


@pytest.mark.devdata
def test_eval_pad_runs_on_the_dev_data_antispoof_smoke_set(
    dev_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """2 live + 2 attack images: a smoke test of the command, not an error rate."""
    toml = _config(tmp_path, brightness_pad(tmp_path / "pad.onnx"))
    root = dev_data / "antispoof" / "silent_face"
    argv = ["--config", str(toml), "eval", "pad", "--real", str(root / "real"), "--attack", str(root / "fake")]
    assert main([*argv, "--det", str(tmp_path / "det.png"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["bona_fide"] == 2
    assert out["attacks"] == 2
