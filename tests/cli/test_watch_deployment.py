"""``overt watch --deployment ID``: the live pipeline for one governed deployment.

The deployment's sealed watch-list snapshot is the gallery, its authorised threshold is the
pipeline's ``min_similarity``, alerts go into its store (crop sealed), faces processed are
counted for the transparency report, and a deployment that is not active is refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from overt.cli.app import main
from overt.config import EngineConfig, build_engine
from overt.deployments.service import DeploymentService
from overt.store.models import AlertRow
from tests.api.conftest import Running, start_server
from tests.api.helpers import active_deployment, enrol_yaoming
from tests.api.test_run import make_clip

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def governed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, Path]]:
    root = tmp_path_factory.mktemp("watchdep")
    clip_path = make_clip(build_engine(EngineConfig()), root / "clip.mp4")
    running = start_server(root / "data")
    enrol_yaoming(running)
    yield running, clip_path
    running.server.stop()
    running.store.db.dispose()


def test_watch_for_an_active_deployment_stores_its_alert(
    governed: tuple[Running, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    running, clip = governed
    dep = active_deployment(running, start=True)
    argv = ["watch", "--deployment", str(dep), "--data-dir", str(running.data_dir), "--source", str(clip), "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["deployment"] == dep
    assert out["min_similarity"] == pytest.approx(0.45)  # the deployment's authorised threshold
    assert out["counters"]["alerts"] >= 1
    with running.store.db.session() as s:
        rows = s.scalars(select(AlertRow).where(AlertRow.deployment_id == dep)).all()
    assert len(rows) == out["counters"]["alerts"]
    view = DeploymentService(running.store).show(dep)
    assert view.deployment.counters.faces_processed >= 1


def test_watch_refuses_a_deployment_that_is_not_active(
    governed: tuple[Running, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    running, clip = governed
    dep = active_deployment(running, start=False)
    argv = ["watch", "--deployment", str(dep), "--data-dir", str(running.data_dir), "--source", str(clip)]
    assert main(argv) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "not active" in err[0]


def test_watch_needs_exactly_one_watch_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watch", "--source", "x.mp4"]) == 2
    assert "exactly one of --watchlist" in capsys.readouterr().err


def test_faces_processed_is_faces_searched_in_counters_deployment_and_report(
    governed: tuple[Running, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The deployment and its transparency report count what the pipeline searched, so the
    observed false alerts per 1,000 faces is on the same footing as the expected figure."""
    from overt.transparency.report import deployment_report

    running, clip = governed
    dep = active_deployment(running, start=True)
    argv = ["watch", "--deployment", str(dep), "--data-dir", str(running.data_dir), "--source", str(clip), "--json"]
    assert main(argv) == 0
    c = json.loads(capsys.readouterr().out)["counters"]
    assert c["faces_processed"] == c["faces_searched"] > 0
    assert c["faces_searched"] not in (c["tracks_started"], c["faces_seen"])
    view = DeploymentService(running.store).show(dep)
    assert view.deployment.counters.faces_processed == c["faces_searched"]
    assert deployment_report(running.store, dep).faces_processed == c["faces_searched"]


def test_local_pipeline_alerts_are_signed_by_the_node_key_and_export_as_a_bundle(
    governed: tuple[Running, Path],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from overt.alerts.evidence import verify_bundle
    from overt.alerts.export import export_bundle
    from overt.store.models import AuditRow

    running, clip = governed
    dep = active_deployment(running, start=True)
    argv = ["watch", "--deployment", str(dep), "--data-dir", str(running.data_dir), "--source", str(clip), "--json"]
    assert main(argv) == 0
    capsys.readouterr()
    with running.store.db.session() as s:
        alert_id = s.scalars(select(AlertRow.id).where(AlertRow.deployment_id == dep)).first()
        created = [json.loads(r.details_json) for r in s.scalars(select(AuditRow)) if r.action == "node_key.created"]
        user = running.store.transaction
    assert alert_id is not None
    assert len(created) == 1
    with user() as tx:
        found = tx.users.get_with_hash("op")
        crop = tx.alerts.crop(alert_id)
    assert found is not None
    out = export_bundle(running.store, found[0], alert_id, tmp_path / "b", crop_jpeg=crop)
    assert out.verified
    assert out.fingerprint == created[0]["fingerprint"]
    check = verify_bundle(tmp_path / "b", expected_fingerprint=created[0]["fingerprint"])
    assert check.ok
    assert check.record is not None
    assert check.record["snapshot_id"] == f"deployment:{dep}"
    assert check.record["integrity_flags"] == []
    assert (tmp_path / "b" / "scene.jpg").is_file()  # the scene frame travels with the evidence, signed
    assert "scene_sha256" in check.record
    # The same through the CLI: export (audited), then verify offline against the audited fingerprint.
    from tests.api.conftest import PASSWORDS

    monkeypatch.setenv("OVERT_PASSWORD", PASSWORDS["op"])
    out_dir = tmp_path / "cli-bundle"
    argv = ["alert", "export", str(alert_id), "--out", str(out_dir), "--data-dir", str(running.data_dir)]
    assert main([*argv, "--user", "op", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["fingerprint"] == created[0]["fingerprint"]
    assert main(["evidence", "verify", str(out_dir), "--fingerprint", created[0]["fingerprint"]]) == 0
