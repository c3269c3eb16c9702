"""The deployment policy (longest window, lowest threshold) and who may close a deployment."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from overt.audit.crosscheck import POLICY_META, governance_problems
from overt.audit.log import AuditLog
from overt.deployments import DeploymentService
from overt.deployments.policy import DeploymentPolicy, PolicyService, calibrated_floor
from overt.domain.clock import FakeClock
from overt.errors import AuthError, GovernanceError, InputError
from overt.store import Store
from tests.gov_helpers import plan, users


def _profile(d: Path, name: str, model: str, fpir: float, threshold: float) -> None:
    (d / "profiles").mkdir(parents=True, exist_ok=True)
    doc = {"model_id": model, "target_fpir": fpir, "min_similarity": threshold}
    (d / "profiles" / f"{name}.json").write_text(json.dumps(doc))


def test_floor_is_the_calibrated_threshold_at_fpir_1e2_else_the_registry(tmp_path: Path) -> None:
    assert calibrated_floor(None).value == pytest.approx(0.40)
    assert "registry" in calibrated_floor(tmp_path).basis
    _profile(tmp_path, "a", "arcface_w600k_mbf", 1e-2, 0.47)
    _profile(tmp_path, "b", "arcface_w600k_mbf", 1e-2, 0.52)
    _profile(tmp_path, "c", "arcface_w600k_mbf", 1e-3, 0.60)  # another FPIR: not the floor
    _profile(tmp_path, "d", "dlib_resnet_v1", 1e-2, 0.95)  # another model
    (tmp_path / "profiles" / "broken.json").write_text("{")
    floor = calibrated_floor(tmp_path)
    assert (floor.value, floor.basis) == (0.52, "arcface_w600k_mbf calibrated at FPIR 1e-2")


def test_policy_values_are_validated_and_unreadable_means_default() -> None:
    with pytest.raises(InputError):
        DeploymentPolicy(max_window_h=0)
    with pytest.raises(InputError):
        DeploymentPolicy(min_threshold=1.5)
    assert DeploymentPolicy.from_json("not json") == DeploymentPolicy()
    p = DeploymentPolicy(8, 0.5)
    assert DeploymentPolicy.from_json(p.to_json()) == p


def test_window_and_threshold_are_enforced_at_create_change_and_authorise(store: Store, clock: FakeClock) -> None:
    u = users(store)
    svc = DeploymentService(store)
    with pytest.raises(GovernanceError, match=r"13.0 h, longer than this data directory allows \(12 h\)"):
        svc.create(u["op"], plan(clock.now(), hours=13))
    with pytest.raises(GovernanceError, match=r"threshold 0.3 is below .* \(0.4, arcface_w600k_mbf live threshold"):
        svc.create(u["op"], plan(clock.now(), threshold=0.3))
    d = svc.create(u["op"], plan(clock.now(), hours=12))
    with pytest.raises(GovernanceError, match="below the lowest"):
        svc.change_threshold(u["op"], d.id, 0.2, "lower")
    policy = PolicyService(store)
    with pytest.raises(AuthError, match="may not change the deployment policy"):
        policy.change(u["officer"], reason="r", max_window_h=1)
    with pytest.raises(InputError, match="needs a reason"):
        policy.change(u["admin"], reason=" ", max_window_h=1)
    policy.change(u["admin"], reason="a short-event policy", max_window_h=4, min_threshold=0.5)
    with pytest.raises(GovernanceError, match=r"allows \(4 h\)"):
        svc.authorise(u["officer"], d.id)
    policy.change(u["admin"], reason="back", max_window_h=12)
    with pytest.raises(GovernanceError, match=r"\(0.5, set by an admin\)"):
        svc.authorise(u["officer"], d.id)
    policy.change(u["admin"], reason="model default", model_default_threshold=True)
    assert svc.authorise(u["officer"], d.id).deployment.authorised_by == "officer"
    assert policy.get() == DeploymentPolicy(12, None)


def test_policy_table_edits_are_cross_checked(store: Store) -> None:
    u = users(store)
    with store.db.session() as s:
        assert governance_problems(s, AuditLog(s, store.clock)) == []
    PolicyService(store).change(u["admin"], reason="r", max_window_h=6)
    with store.transaction() as tx:
        tx.vault.set_meta(POLICY_META, DeploymentPolicy(700, 0.01).to_json())
    with store.db.session() as s:
        problems = governance_problems(s, AuditLog(s, store.clock))
    assert [p.message for p in problems] == ["the deployment policy differs from its last recorded change"]


def test_close_is_for_creator_authoriser_or_admin(store: Store, clock: FakeClock) -> None:
    u = users(store)
    svc = DeploymentService(store)
    ids = []
    for _ in range(3):
        d = svc.create(u["op"], plan(clock.now()))
        svc.authorise(u["officer"], d.id)
        ids.append(d.id)
    with pytest.raises(AuthError, match="only its creator, its authorising officer or an admin"):
        svc.close(u["officer2"], ids[0])
    assert svc.close(u["op"], ids[0]).state.value == "closed"
    assert svc.close(u["officer"], ids[1]).state.value == "closed"
    assert svc.close(u["admin"], ids[2]).state.value == "closed"
    disabled_admin = replace(u["admin"], disabled=True)
    with pytest.raises(AuthError):
        svc.close(disabled_admin, ids[2])
