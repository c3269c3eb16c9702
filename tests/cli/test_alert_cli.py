"""``overt alert adjudicate`` goes through the same review service as the API: the two-person rule binds it."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from overt.alerts.review import AlertService
from overt.cli.app import main
from overt.deployments import DeploymentService
from overt.domain.users import Role
from overt.store import Store
from overt.store.datadir import load_config, open_data_dir, write_config
from overt.users import UserService
from tests.gov_helpers import plan, publish_late

PASSWORDS = {"admin": "admin-password", "officer": "officer-pass", "op": "operator-pass", "op2": "operator2-pass"}


def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, user: str, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("OVERT_PASSWORD", PASSWORDS[user])
    rc = main([*args, "--user", user])
    out, err = capsys.readouterr()
    return rc, out + err


@pytest.fixture
def setup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[Store, int, int]:
    d = tmp_path / "data"
    monkeypatch.setenv("OVERT_DATA_DIR", str(d))
    monkeypatch.setenv("OVERT_PASSWORD", PASSWORDS["admin"])
    assert main(["init", "--admin", "admin", "--json"]) == 0
    capsys.readouterr()
    store = open_data_dir(d)
    users = UserService(store)
    admin = users.authenticate("admin", PASSWORDS["admin"])
    officer = users.add(admin, "officer", Role.AUTHORISING_OFFICER, PASSWORDS["officer"])
    op = users.add(admin, "op", Role.OPERATOR, PASSWORDS["op"])
    users.add(admin, "op2", Role.OPERATOR, PASSWORDS["op2"])
    deployments = DeploymentService(store)
    dep = deployments.create(op, plan(datetime.now(UTC)))
    deployments.authorise(officer, dep.id)
    publish_late(deployments, {"op": op, "officer": officer}, dep.id)
    deployments.start(op, dep.id)
    svc = AlertService(store)
    ids = [
        svc.record(deployment_id=dep.id, camera_id="cam", entry_id=None, similarity=0.7, raised_at=datetime.now(UTC))
        for _ in range(2)
    ]
    return store, ids[0].id, ids[1].id


def test_cli_cannot_confirm_its_own_proposal_made_through_the_api_service(
    setup: tuple[Store, int, int], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, first, _ = setup
    op = UserService(store).authenticate("op", PASSWORDS["op"])
    view, counted = AlertService(store, second_person=True).adjudicate(op, first, "true_match", "arrested")
    assert not counted
    assert view.pending is not None
    store.db.dispose()
    # the proposer cannot confirm it from the command line (old main: the CLI wrote the verdict directly)
    rc, out = cli(capsys, monkeypatch, "op", "alert", "adjudicate", str(first), "--verdict", "true")
    assert rc != 0
    assert "second person" in out
    with store.transaction() as tx:
        assert tx.alerts.get(first).adjudication is None
        assert tx.reviews.get(first) is not None
    # a second operator confirms it, with the proposal's outcome
    rc, out = cli(capsys, monkeypatch, "op2", "alert", "adjudicate", str(first), "--verdict", "true", "--json")
    assert rc == 0, out
    doc = json.loads(out)
    assert doc["counted"] is True
    assert doc["adjudication"] == "true_match"
    assert doc["outcome"] == "arrested"
    with store.transaction() as tx:
        actions = [e.action for e in tx.audit.entries()]
    assert "alert.verdict_confirmed" in actions


def test_cli_second_person_records_a_proposal_like_the_api(
    setup: tuple[Store, int, int], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _, second = setup
    store.db.dispose()
    args = ("alert", "adjudicate", str(second), "--verdict", "true", "--second-person", "--json")
    rc, out = cli(capsys, monkeypatch, "op", *args)
    assert rc == 0, out
    doc = json.loads(out)
    assert doc["counted"] is False
    assert doc["adjudication"] is None
    assert doc["pending"]["proposed_by"] == "op"
    rc, out = cli(capsys, monkeypatch, "op", *args)
    assert rc != 0
    assert "second person" in out
    rc, out = cli(capsys, monkeypatch, "op2", "alert", "adjudicate", str(second), "--verdict", "false", "--json")
    assert rc == 0, out
    doc = json.loads(out)
    assert doc["counted"] is False
    assert doc["adjudication"] is None
    assert doc["pending"] is None


def test_the_data_directorys_policy_binds_the_cli_without_a_flag(
    setup: tuple[Store, int, int], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, first, _ = setup
    store.db.dispose()
    d = Path(os.environ["OVERT_DATA_DIR"])
    write_config(d, load_config(d).model_copy(update={"second_person_confirmation": True}))
    rc, out = cli(capsys, monkeypatch, "op", "alert", "adjudicate", str(first), "--verdict", "true", "--json")
    assert rc == 0, out
    doc = json.loads(out)
    assert doc["counted"] is False
    assert doc["pending"]["proposed_by"] == "op"
    rc, out = cli(capsys, monkeypatch, "op", "alert", "list", "--json")
    assert rc == 0, out
    assert {a["id"]: a["adjudication"] for a in json.loads(out)}[first] is None


def test_cli_undo_is_the_services_undo(
    setup: tuple[Store, int, int], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, first, _ = setup
    rc, out = cli(capsys, monkeypatch, "op", "alert", "adjudicate", str(first), "--verdict", "false")
    assert rc == 0, out
    rc, out = cli(capsys, monkeypatch, "op2", "alert", "undo", str(first))
    assert rc == 7, out  # not the decider (AuthError)
    rc, out = cli(capsys, monkeypatch, "op", "alert", "undo", str(first))
    assert rc == 0, out
    assert "verdict undone; the alert is open again" in out
    rc, out = cli(capsys, monkeypatch, "op", "alert", "undo", str(first))
    assert rc == 8, out  # nothing to undo (GovernanceError)
    assert AlertService(store).get(first).adjudication is None
