"""Attack 8 (issue 10), against a real server: any operator closed (crypto-shredded) another
person's deployment, and a deployment with a 2000-9999 window and threshold 0.01 was accepted.

Now closing is for the deployment's creator, its authorising officer or an admin; the data
directory's policy caps the window (12 h by default) and floors the threshold (the model's
live threshold); only an admin's audited policy change moves either.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import pytest

from overt.deployments.policy import PolicyService
from overt.users import UserService
from tests.api.conftest import PASSWORDS, Running
from tests.api.helpers import active_deployment, plan


def test_another_operator_cannot_close_a_deployment(running: Running) -> None:
    dep = active_deployment(running)  # created by op, authorised by officer
    with closing(running.login("op2")) as op2:
        r = op2.post(f"/api/v1/deployments/{dep}/close")
    assert r.status_code == 403, r.text
    assert "only its creator, its authorising officer or an admin" in r.text
    with closing(running.login("op")) as op:
        assert op.get(f"/api/v1/deployments/{dep}").json()["state"] == "active"
    with running.store.transaction() as tx:
        info = tx.snapshots.info(dep)
    assert info is not None
    assert not info.destroyed


@pytest.mark.parametrize("who", ["op", "officer", "admin"])
def test_creator_authorising_officer_and_admin_may_close(running: Running, who: str) -> None:
    dep = active_deployment(running)
    with closing(running.login(who)) as c:
        r = c.post(f"/api/v1/deployments/{dep}/close")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "closed"


def _years_window_plan() -> dict[str, object]:
    body = plan()
    body["planned_start"] = "2000-01-01T00:00:00+00:00"
    body["planned_end"] = "9999-12-31T00:00:00+00:00"
    body["min_similarity"] = 0.01
    return body


def test_a_2000_to_9999_window_with_threshold_001_is_refused(running: Running) -> None:
    with closing(running.login("op")) as op:
        r = op.post("/api/v1/deployments", json=_years_window_plan())
        assert r.status_code == 409, r.text
        assert "longer than this data directory allows (12 h)" in r.text
        body = plan()
        body["min_similarity"] = 0.01
        r = op.post("/api/v1/deployments", json=body)
    assert r.status_code == 409, r.text
    assert "threshold 0.01 is below the lowest this data directory allows (0.4" in r.text


def test_a_draft_from_before_a_stricter_policy_cannot_be_authorised(running: Running, tmp_path: Path) -> None:
    with closing(running.login("op")) as op:
        r = op.post("/api/v1/deployments", json=plan(hours=10))
    assert r.status_code == 201, r.text
    admin = UserService(running.store).authenticate("admin", "admin-password")
    policy = PolicyService(running.store)
    policy.change(admin, reason="force policy: 8 h at most", max_window_h=8)
    try:
        with closing(running.login("officer")) as officer:
            r = officer.post(f"/api/v1/deployments/{r.json()['id']}/authorise")
        assert r.status_code == 409, r.text
        assert "longer than this data directory allows (8 h)" in r.text
    finally:
        policy.change(admin, reason="back to the default", max_window_h=12)
    with running.store.transaction() as tx:
        changes = tx.audit.entries(action="deployment.policy_changed")
    assert [(e.actor, e.details["max_window_h_to"]) for e in changes] == [("admin", 8.0), ("admin", 12.0)]


def test_the_cli_refuses_the_same_plan_with_a_clear_error(
    running: Running, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from overt.cli.app import main

    monkeypatch.setenv("OVERT_PASSWORD", PASSWORDS["op"])
    args = [
        "deployment", "create", "--data-dir", str(running.data_dir), "--user", "op", "--purpose", "p",
        "--legal-basis", "l", "--place", "x", "--start", "2000-01-01T00:00+00:00", "--end", "9999-12-31T00:00+00:00",
        "--criteria", "c", "--category", "wanted_by_court", "--min-similarity", "0.01", "--justification", "j",
    ]  # fmt: skip
    capsys.readouterr()
    assert main(args) == 8
    err = capsys.readouterr().err
    assert "longer than this data directory allows (12 h)" in err
    assert len(err.strip().splitlines()) == 1
