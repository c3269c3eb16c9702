"""``overt eval pairs`` on the dev-data pair lists, with pinned results.

Pinned on this machine (2 cores): ArcFace (default engine) johns 1.0, deepface 1.0, ORL 0.9997;
dlib engine johns 1.0, deepface 0.9973, ORL 0.9975. No detection failures anywhere. Tolerances
allow a few pairs either way (one pair of deepface is 0.00055 of accuracy).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import run

pytestmark = pytest.mark.devdata

DLIB_TOML = '[engine.detector]\ntype = "dlib_hog"\n[engine.embedder]\ntype = "dlib_resnet"\n'

CASES = [
    pytest.param("arcface", "faces/johns/pairs_all_derived.csv", 1485, 1.0, 0.003, id="arcface-johns"),
    pytest.param("arcface", "faces/deepface/pairs_all_derived.csv", 1830, 1.0, 0.003, id="arcface-deepface"),
    pytest.param(
        "arcface", "faces/orl/pairs_derived.csv", 3600, 0.9997, 0.002, id="arcface-orl", marks=pytest.mark.slow
    ),
    pytest.param(
        "dlib", "faces/johns/pairs_all_derived.csv", 1485, 1.0, 0.003, id="dlib-johns", marks=pytest.mark.dlib
    ),
    pytest.param(
        "dlib",
        "faces/deepface/pairs_all_derived.csv",
        1830,
        0.9973,
        0.004,
        id="dlib-deepface",
        marks=[pytest.mark.dlib, pytest.mark.slow],
    ),
    pytest.param(
        "dlib",
        "faces/orl/pairs_derived.csv",
        3600,
        0.9975,
        0.004,
        id="dlib-orl",
        marks=[pytest.mark.dlib, pytest.mark.slow],
    ),
]


@pytest.mark.parametrize(("engine", "csv", "pairs", "accuracy", "tolerance"), CASES)
def test_eval_pairs_pinned(
    capsys: pytest.CaptureFixture[str],
    dev_data: Path,
    tmp_path: Path,
    engine: str,
    csv: str,
    pairs: int,
    accuracy: float,
    tolerance: float,
) -> None:
    args = ["eval", "pairs", "--csv", str(dev_data / csv), "--roc", str(tmp_path / "roc.png"), "--json"]
    if engine == "dlib":
        pytest.importorskip("dlib", reason="the dlib backend needs: pip install 'overt[dlib]'")
        cfg = tmp_path / "dlib.toml"
        cfg.write_text(DLIB_TOML, encoding="utf-8")
        args = ["--config", str(cfg), *args]
    code, out, err = run(capsys, *args)
    assert code == 0, err
    data = json.loads(out)
    assert data["pairs"] == pairs
    assert data["detect_failures"] == 0
    assert data["accuracy"] == pytest.approx(accuracy, abs=tolerance)
    assert (tmp_path / "roc.png").is_file()
