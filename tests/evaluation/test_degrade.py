"""Degradation sweep: each degradation does what it says, deterministically, and the CLI runs it
on an LFW-layout folder (made from a shipped sample photo; dev-data runs are in BENCHMARKS.md)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from overt.cli.app import main
from overt.config import build_engine
from overt.errors import ConfigError
from overt.evaluation.degrade import Condition, default_conditions, degrade, parse_degrade, seed_for
from overt.vision.engine import FaceEngine
from tests.evaluation.tiny_faces import make_identities


@pytest.fixture(scope="module")
def engine() -> FaceEngine:
    return build_engine()


def _lms(engine: FaceEngine, image: np.ndarray) -> np.ndarray:
    dets = engine.detect(image)
    assert len(dets)
    return np.asarray(dets.landmarks5[0], np.float32)


def test_resolution_sets_the_eye_distance_and_never_enlarges(engine: FaceEngine, yaoming_bgr: np.ndarray) -> None:
    lms = _lms(engine, yaoming_bgr)
    eye = float(np.linalg.norm(lms[1] - lms[0]))
    out = degrade(yaoming_bgr, Condition("resolution", "eyes", 24.0), lms, np.random.default_rng(0))
    assert out is not None
    assert out.shape == (480, 640, 3)
    got = _lms(engine, out)
    assert float(np.linalg.norm(got[1] - got[0])) == pytest.approx(24.0, rel=0.2)
    assert degrade(yaoming_bgr, Condition("resolution", "eyes", eye * 1.5), lms, np.random.default_rng(0)) is None


@pytest.mark.parametrize("cond", default_conditions(["blur", "jpeg", "light", "occlusion"]), ids=lambda c: c.label)
def test_deterministic_and_changes_the_image(cond: Condition, engine: FaceEngine, yaoming_bgr: np.ndarray) -> None:
    lms = _lms(engine, yaoming_bgr)
    seed = seed_for(cond, Path("a/b.jpg"), 0)
    a = degrade(yaoming_bgr, cond, lms, np.random.default_rng(seed))
    b = degrade(yaoming_bgr, cond, lms, np.random.default_rng(seed))
    assert a is not None
    assert b is not None
    assert np.array_equal(a, b)
    assert a.shape == yaoming_bgr.shape
    assert not np.array_equal(a, yaoming_bgr)


def test_occlusions_cover_their_band(engine: FaceEngine, yaoming_bgr: np.ndarray) -> None:
    lms = _lms(engine, yaoming_bgr)
    rng = np.random.default_rng(0)
    mask = degrade(yaoming_bgr, Condition("occlusion", "mask", 1.0), lms, rng)
    glasses = degrade(yaoming_bgr, Condition("occlusion", "sunglasses", 1.0), lms, rng)
    assert mask is not None
    assert glasses is not None
    mouth = np.round((lms[3] + lms[4]) / 2).astype(int)
    eye = np.round(lms[0]).astype(int)
    assert not np.array_equal(mask[mouth[1], mouth[0]], yaoming_bgr[mouth[1], mouth[0]])
    assert np.array_equal(mask[eye[1], eye[0]], yaoming_bgr[eye[1], eye[0]])  # the mask leaves the eyes
    assert np.array_equal(glasses[eye[1], eye[0]], [20, 20, 20])
    assert np.array_equal(glasses[mouth[1], mouth[0]], yaoming_bgr[mouth[1], mouth[0]])


def test_parse(tmp_path: Path) -> None:
    assert [c.factor for c in parse_degrade("jpeg")] == ["jpeg"] * 5
    with pytest.raises(ConfigError):
        parse_degrade("fog")
    toml = tmp_path / "c.toml"
    toml.write_text(
        '[[condition]]\nfactor = "light"\nlevel = 0.2\ngamma = 2.2\nnoise = 9\n'
        '[[condition]]\nfactor = "blur"\nkind = "motion"\nlevel = 9\n',
        encoding="utf-8",
    )
    conds = parse_degrade(str(toml))
    assert conds == [Condition("light", "light", 0.2, gamma=2.2, noise=9.0), Condition("blur", "motion", 9.0)]
    toml.write_text('[[condition]]\nfactor = "blur"\nkind = "zoom"\nlevel = 9\n', encoding="utf-8")
    with pytest.raises(ConfigError):
        parse_degrade(str(toml))


def test_cli_sweep_on_an_lfw_layout_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_identities(tmp_path / "ids", n_ids=6, per_id=3)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    argv = ["eval", "identify", "--identities", str(root), "--degrade", "resolution,jpeg,occlusion"]
    argv += ["--degrade-probes", "8", "--report", "r.html", "--plots", "plots", "--json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    rows = data["conditions"]
    assert rows[0]["label"] == "clean"
    assert {r["factor"] for r in rows} == {"clean", "resolution", "jpeg", "occlusion"}
    clean = rows[0]
    assert clean["probes"] == 8
    assert clean["detection_rate"] == 1.0
    assert clean["fnir_at_fpir"]["1/6000"] is None  # 4 non-mated searches cannot resolve 1/6000
    tiny = next(r for r in rows if r["label"] == "eyes 12 px")
    assert tiny["live_gate_pass_of_detected"] in (0.0, None)  # 12 px eyes: every face under min_size_px
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "eyes 12 px" in html
    assert "data:image/png;base64" in html
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        "degrade_jpeg.png",
        "degrade_occlusion.png",
        "degrade_resolution.png",
    ]
    # Deterministic: the same command gives the same numbers.
    assert main(argv) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["conditions"] == rows
