"""One threshold story: ``deployment create`` without a threshold uses the model's documented
live threshold and says so; the console pre-fills the same number."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from overt.deployments.thresholds import live_threshold
from overt.matching.decider import DEFAULT_MIN_SIMILARITY
from tests.cli.test_governance_cli import data_dir, run

__all__ = ["data_dir"]


def test_create_without_threshold_uses_the_documented_live_threshold_and_says_so(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    start = datetime.now(UTC) + timedelta(hours=1)
    end = start + timedelta(hours=2)
    rc, out, err = run(
        capsys, monkeypatch, "op", "deployment", "create", "--purpose", "p", "--legal-basis", "l", "--place", "x",
        "--start", start.isoformat(timespec="seconds"), "--end", end.isoformat(timespec="seconds"),
        "--criteria", "c", "--category", "wanted_by_court", "--json",
    )  # fmt: skip
    assert rc == 0, err
    live = live_threshold()
    assert live.min_similarity == DEFAULT_MIN_SIMILARITY["arcface_w600k_mbf"] == 0.40
    assert "No --min-similarity or --profile: using 0.40" in err
    d = json.loads(out)
    assert d["min_similarity"] == live.min_similarity
    assert "documented live threshold of arcface_w600k_mbf" in d["threshold_justification"]


def test_readme_states_the_same_live_threshold() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert f"{live_threshold().min_similarity:.2f}" in readme
