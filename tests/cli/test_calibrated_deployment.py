"""Calibration reaches a deployment, through the real commands end to end.

``overt calibrate`` writes a profile; ``overt deployment create --profile`` takes its threshold
and justification; ``authorise`` reads its expected false-alert rate (scaled to the watch list);
``overt watch --deployment`` runs at the calibrated threshold and shows the profile's measured
false-alert rate beside the faces it processed. Nothing here hand-writes a profile.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from overt.config import EngineConfig, build_engine
from overt.evaluation.profiles import load_profile
from overt.samples import sample_image
from tests.api.test_run import make_clip
from tests.cli.test_governance_cli import _enrol, data_dir, run  # noqa: F401 (data_dir: fixture)
from tests.evaluation.tiny_faces import make_identities

pytestmark = pytest.mark.slow


@pytest.mark.usefixtures("data_dir")  # the governance CLI tests' data dir: admin, officer, wm, op
def test_calibrate_then_deployment_create_profile_authorise_watch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    d = Path(os.environ["OVERT_DATA_DIR"])
    ids = make_identities(tmp_path / "ids", n_ids=12, per_id=3)
    rc, out, err = run(
        capsys, monkeypatch, None, "calibrate", "--identities", str(ids), "--target-fpir", "1/18",
        "--watchlist-size", "6", "--profile", "high-street", "--json",
    )  # fmt: skip
    assert rc == 0, err
    prof = load_profile("high-street", d)
    image = tmp_path / "subject.jpg"
    image.write_bytes(sample_image("yaoming").read_bytes())
    rc, _, err = _enrol(capsys, monkeypatch, "CASE-0001", image)
    assert rc == 0, err

    # The tiny synthetic identities calibrate below the model's live threshold (the policy's floor):
    # an admin lowers the floor, with a reason, as a real site would after calibrating on its own data.
    floor = ("deployment", "set-policy", "--min-threshold", str(prof.min_similarity), "--reason", "calibrated")
    assert run(capsys, monkeypatch, "admin", *floor)[0] == 0, prof.min_similarity

    start = datetime.now(UTC) - timedelta(minutes=5)
    rc, out, err = run(
        capsys, monkeypatch, "op", "deployment", "create", "--purpose", "Locate people wanted by the courts",
        "--legal-basis", "common law policing powers", "--place", "High Street", "--start", start.isoformat(),
        "--end", (start + timedelta(hours=6)).isoformat(), "--criteria", "wanted by court",
        "--category", "wanted_by_court", "--profile", "high-street", "--json",
    )  # fmt: skip
    assert rc == 0, err
    created = json.loads(out)
    dep = created["id"]
    assert created["min_similarity"] == prof.min_similarity
    assert created["calibration_profile"] == "high-street"
    assert "calibration profile high-street" in created["threshold_justification"]

    rc, out, err = run(capsys, monkeypatch, "officer", "deployment", "authorise", str(dep), "--json")
    assert rc == 0, err
    auth = json.loads(out)
    expected = prof.expected_false_alerts_per_1000_faces / prof.watchlist_size_reached  # one subject
    assert auth["expected_false_alerts_per_1000"] == pytest.approx(expected, rel=1e-3)
    assert run(capsys, monkeypatch, "op", "deployment", "publish-notice", str(dep))[0] == 0
    late = ("deployment", "late-start", str(dep), "--reason", "urgent: test of the start path")
    assert run(capsys, monkeypatch, "officer", *late)[0] == 0
    assert run(capsys, monkeypatch, "op", "deployment", "start", str(dep))[0] == 0

    clip = make_clip(build_engine(EngineConfig()), tmp_path / "clip.mp4", seconds=2.0)
    rc, out, err = run(capsys, monkeypatch, None, "watch", "--deployment", str(dep), "--source", str(clip), "--json")
    assert rc == 0, err
    summary = json.loads(out)
    assert summary["min_similarity"] == pytest.approx(prof.min_similarity)
    cal = summary["calibration"]
    assert cal["profile"] == "high-street"
    assert cal["measured_false_alerts_per_1000_faces"] == prof.measured_false_alerts_per_1000_faces
    assert cal["expected_false_alerts_per_1000_faces"] == pytest.approx(expected, rel=1e-3)
    assert summary["counters"]["faces_processed"] == summary["counters"]["faces_searched"] > 0
