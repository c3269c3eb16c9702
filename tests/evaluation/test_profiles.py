"""Model profiles: calibration on hand-made templates, saved and loaded from the data dir."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from overt.config import default_data_dir
from overt.errors import ConfigError, InputError
from overt.evaluation.calibrate import calibrate, make_profile
from overt.evaluation.dataset import default_split
from overt.evaluation.identify import EmbeddedImage
from overt.evaluation.profiles import load_profile, profile_path, save_profile


def _data(n_ids: int = 60, per_id: int = 3) -> tuple[dict[str, list[Path]], dict[Path, EmbeddedImage]]:
    rng = np.random.default_rng(0)
    ids = {f"s{i:03d}": [Path(f"/d/s{i:03d}/{j}.png") for j in range(per_id)] for i in range(n_ids)}
    cache = {}
    for paths in ids.values():
        c = rng.normal(size=32)
        for p in paths:
            v = c / np.linalg.norm(c) + 0.4 * rng.normal(size=32) / math.sqrt(32)
            cache[p] = EmbeddedImage((v / np.linalg.norm(v)).astype(np.float32))
    return ids, cache


def test_calibrate_save_load_roundtrip(tmp_path: Path) -> None:
    ids, cache = _data()
    split = default_split(ids, nonmated_share=0.5, seed=0)
    cal = calibrate(split, cache, target_fpir=1 / 50, watchlist_size=30)
    assert cal.choice.measurable
    assert cal.choice.achieved_fpir <= 1 / 50
    prof = make_profile(
        "test-site",
        cal,
        split,
        identities_dir=Path("/d"),
        model_id="m",
        model_sha256="0" * 64,
        detector_id="d",
        detector_sha256="1" * 64,
        command="overt calibrate ...",
    )
    path = save_profile(prof, tmp_path)
    assert path == tmp_path / "profiles" / "test-site.json"
    loaded = load_profile("test-site", tmp_path)
    assert loaded == prof
    assert loaded.expected_false_alerts_per_1000_faces == pytest.approx(20.0)
    assert loaded.data.nonmated_searches == 90


def test_calibrate_refuses_unmeasurable_and_unreachable() -> None:
    ids, cache = _data()
    split = default_split(ids, nonmated_share=0.5, seed=0)
    with pytest.raises(InputError, match="not measurable"):
        calibrate(split, cache, target_fpir=1 / 6000, watchlist_size=30)
    with pytest.raises(InputError, match="not reachable"):
        calibrate(split, cache, target_fpir=1 / 20, watchlist_size=1000)
    cal = calibrate(split, cache, target_fpir=1 / 20, watchlist_size=1000, allow_smaller=True)
    assert cal.reached == 45


def test_profile_names_and_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError):
        profile_path("../etc", tmp_path)
    with pytest.raises(ConfigError):
        profile_path("Has Space", tmp_path)
    monkeypatch.setenv("OVERT_DATA_DIR", str(tmp_path / "dd"))
    assert default_data_dir() == tmp_path / "dd"
    assert profile_path("x") == tmp_path / "dd" / "profiles" / "x.json"
    with pytest.raises(InputError, match="not found"):
        load_profile("missing")
    (tmp_path / "dd" / "profiles").mkdir(parents=True)
    (tmp_path / "dd" / "profiles" / "bad.json").write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match="invalid"):
        load_profile("bad")
