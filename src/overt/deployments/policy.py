"""The data directory's deployment policy: the longest window and the lowest threshold.

Stored in the database's ``meta`` table (so every server process on the database applies the
same rules, and ``overt audit verify`` can check it against the log); absent means the default:
windows of at most 12 hours, and no threshold below the embedder model's calibrated live
threshold at FPIR 1e-2 (a profile in ``<data-dir>/profiles`` for that model and target FPIR,
the strictest if several), else the model registry's live 1:N threshold. Only an admin can
change it, with a reason, and the change is audited (``deployment.policy_changed``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from overt.audit.crosscheck import POLICY_META
from overt.domain.deployments import DeploymentPlan
from overt.domain.users import Role, User
from overt.errors import AuthError, GovernanceError, InputError
from overt.matching.decider import default_min_similarity
from overt.store.store import Store, Tx
from overt.store.vault import Vault

DEFAULT_MAX_WINDOW_H = 12.0
DEFAULT_MODEL = "arcface_w600k_mbf"
FLOOR_FPIR = 1e-2


@dataclass(frozen=True, slots=True)
class DeploymentPolicy:
    """``min_threshold`` None: the model's calibrated / registry live threshold (see module doc)."""

    max_window_h: float = DEFAULT_MAX_WINDOW_H
    min_threshold: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_window_h) and 0 < self.max_window_h <= 24 * 31):
            raise InputError("the longest deployment window must lie in (0, 744] hours")
        if self.min_threshold is not None and not (math.isfinite(self.min_threshold) and 0 < self.min_threshold < 1):
            raise InputError("the lowest threshold must lie in (0, 1)")

    def to_json(self) -> str:
        return json.dumps({"max_window_h": self.max_window_h, "min_threshold": self.min_threshold}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DeploymentPolicy:
        try:
            doc = json.loads(text)
            mt = doc.get("min_threshold")
            return cls(float(doc["max_window_h"]), None if mt is None else float(mt))
        except (ValueError, KeyError, TypeError, AttributeError):
            return cls()  # unreadable: the defaults (the strict side)


@dataclass(frozen=True, slots=True)
class ThresholdFloor:
    value: float
    basis: str


def calibrated_floor(data_dir: Path | None, model_id: str = DEFAULT_MODEL) -> ThresholdFloor:
    """The model's calibrated live threshold at FPIR 1e-2, else the registry's live threshold."""
    found: list[float] = []
    if data_dir is not None and (data_dir / "profiles").is_dir():
        for p in sorted((data_dir / "profiles").glob("*.json")):
            try:
                doc = json.loads(p.read_text(encoding="utf-8"))
                fpir = float(doc["target_fpir"])
                value = float(doc.get("min_similarity", doc.get("threshold")))
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if doc.get("model_id") == model_id and math.isclose(fpir, FLOOR_FPIR, rel_tol=1e-6) and 0 < value < 1:
                found.append(value)
    if found:
        return ThresholdFloor(max(found), f"{model_id} calibrated at FPIR 1e-2")
    return ThresholdFloor(default_min_similarity(model_id, fallback=0.40), f"{model_id} live threshold (registry)")


def load_policy(vault: Vault) -> DeploymentPolicy:
    text = vault.meta(POLICY_META)
    return DeploymentPolicy() if text is None else DeploymentPolicy.from_json(text)


def check_plan(policy: DeploymentPolicy, floor: ThresholdFloor, plan: DeploymentPlan, what: str) -> None:
    """Refuse a plan outside the policy, saying which rule and how an admin may change it."""
    window = plan.planned_end - plan.planned_start
    if window > timedelta(hours=policy.max_window_h):
        raise GovernanceError(
            f"{what}: the planned window is {window.total_seconds() / 3600:.1f} h, longer than this data "
            f"directory allows ({policy.max_window_h:g} h); shorten it, or an admin changes the policy "
            "(overt deployment set-policy --max-window-h ...)"
        )
    lowest = floor.value if policy.min_threshold is None else policy.min_threshold
    basis = floor.basis if policy.min_threshold is None else "set by an admin"
    if plan.min_similarity < lowest:
        raise GovernanceError(
            f"{what}: threshold {plan.min_similarity:g} is below the lowest this data directory allows "
            f"({lowest:g}, {basis}); raise it, or an admin changes the policy "
            "(overt deployment set-policy --min-threshold ...)"
        )


class PolicyService:
    def __init__(self, store: Store, *, data_dir: Path | None = None) -> None:
        self.store = store
        self.data_dir = data_dir

    def floor(self) -> ThresholdFloor:
        return calibrated_floor(self.data_dir)

    def get(self) -> DeploymentPolicy:
        with self.store.transaction() as tx:
            return load_policy(tx.vault)

    def check(self, tx: Tx, plan: DeploymentPlan, what: str) -> None:
        check_plan(load_policy(tx.vault), self.floor(), plan, what)

    def change(
        self,
        actor: User,
        *,
        reason: str,
        max_window_h: float | None = None,
        min_threshold: float | None = None,
        model_default_threshold: bool = False,
    ) -> DeploymentPolicy:
        """An admin's explicit change (audited with the old and new values and the reason)."""
        if actor.disabled or actor.role is not Role.ADMIN:
            raise AuthError(f"user {actor.name} (role {actor.role.value}) may not change the deployment policy")
        if not reason.strip():
            raise InputError("a policy change needs a reason")
        with self.store.transaction() as tx:
            old = load_policy(tx.vault)
            new = DeploymentPolicy(
                old.max_window_h if max_window_h is None else max_window_h,
                None if model_default_threshold else old.min_threshold if min_threshold is None else min_threshold,
            )
            tx.vault.set_meta(POLICY_META, new.to_json())
            tx.audit.append(
                actor.name,
                "deployment.policy_changed",
                "policy",
                {
                    "max_window_h_from": old.max_window_h,
                    "max_window_h_to": new.max_window_h,
                    "min_threshold_from": old.min_threshold,
                    "min_threshold_to": new.min_threshold,
                    "reason": reason[:200],
                },
            )
            return new
