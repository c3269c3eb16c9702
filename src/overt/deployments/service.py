"""Deployment lifecycle: create, authorise (second person, snapshot), publish notice, start, stop, close (shred).

A start needs the public notice published at least ``Policy.notice_lead_time`` before (or an
authorising officer's urgent late-start override with a written reason, shown publicly).

Every operation first enforces time: an active deployment past its planned end is stopped,
and a snapshot whose deployment closed, or ended more than ``Policy.snapshot_shred_after``
ago, is crypto-shredded. The pipeline calls :meth:`DeploymentService.tick` periodically and
:meth:`DeploymentService.is_active` before using a gallery.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from overt.deployments.policy import PolicyService
from overt.deployments.thresholds import live_threshold
from overt.domain.deployments import Deployment, DeploymentPlan, DeploymentState
from overt.domain.leases import Fence
from overt.domain.users import Permission, Role, User
from overt.errors import AuthError, ConfigError, GovernanceError, InputError
from overt.evaluation.profiles import ModelProfile, load_profile
from overt.store.repositories import LeaseRepository, SnapshotInfo
from overt.store.store import Store, Tx
from overt.watchlist.snapshots import LookAlike, expected_false_alerts_per_1000, freeze_snapshot


@dataclass(frozen=True, slots=True)
class DeploymentView:
    deployment: Deployment
    snapshot: SnapshotInfo | None


@dataclass(frozen=True, slots=True)
class AuthorisationResult:
    deployment: Deployment
    watchlist_size: int
    expected_false_alerts_per_1000: float
    estimate_basis: str
    look_alikes: tuple[LookAlike, ...]
    overdue_excluded: int = 0


@dataclass(frozen=True, slots=True)
class CalibrationSummary:
    """What a deployment's calibration profile promises, shown beside what the pipeline observes."""

    profile: str
    model_id: str
    min_similarity: float
    target_fpir: float
    measured_fpir: float
    watchlist_size_reached: int
    expected_false_alerts_per_1000_faces: float
    """Scaled to the deployment's authorised watch-list size (the plan's figure)."""
    measured_false_alerts_per_1000_faces: float
    """As measured by ``overt calibrate`` at ``watchlist_size_reached`` subjects."""
    tpir: float

    def as_dict(self) -> dict[str, float | int | str]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class TickResult:
    stopped: tuple[int, ...] = ()
    shredded: tuple[int, ...] = ()


def _shred_due(tx: Tx, d: Deployment, now: datetime) -> bool:
    return d.state is DeploymentState.CLOSED or now >= d.plan.planned_end + tx.policy.snapshot_shred_after


def due(tx: Tx) -> bool:
    """Would :func:`enforce` change anything now? (Reads only: the ingest path asks first.)"""
    now = tx.clock.now()
    deployments = {d.id: d for d in tx.deployments.find()}  # one query, not one per snapshot
    if any(d.due_to_stop(now) for d in deployments.values()):
        return True
    live = tx.snapshots.live()
    return any(
        _shred_due(tx, deployments.get(i.deployment_id) or tx.deployments.get(i.deployment_id), now) for i in live
    )


def enforce(tx: Tx) -> TickResult:
    """Automatic stop at the end time and snapshot destruction, inside ``tx`` (audited)."""
    now = tx.clock.now()
    stopped: list[int] = []
    for d in tx.deployments.find(DeploymentState.ACTIVE):
        if d.due_to_stop(now):
            tx.deployments.save(d.auto_stop())
            tx.audit.append("system", "deployment.stopped", f"deployment:{d.id}", {"reason": "planned end reached"})
            stopped.append(d.id)
    shredded: list[int] = []
    for info in tx.snapshots.live():
        d = tx.deployments.get(info.deployment_id)
        if _shred_due(tx, d, now) and tx.snapshots.destroy(d.id, now=now):
            tx.audit.append("system", "snapshot.destroyed", f"deployment:{d.id}", {"entries": info.entry_count})
            shredded.append(d.id)
    return TickResult(tuple(stopped), tuple(shredded))


class DeploymentService:
    def __init__(self, store: Store, *, data_dir: Path | None = None) -> None:
        self.store = store
        self.data_dir = data_dir
        self.policy = PolicyService(store, data_dir=data_dir)

    def _tx(self) -> AbstractContextManager[tuple[Tx, TickResult]]:
        return _enforcing(self.store)

    def tick(self) -> TickResult:
        """Stop deployments past their end and shred due snapshots (the pipeline calls this)."""
        with self._tx() as (_tx, result):
            return result

    def profile(self, name: str) -> ModelProfile:
        """The calibration profile ``overt calibrate`` wrote to ``<data-dir>/profiles/<name>.json``."""
        if self.data_dir is None:
            raise ConfigError("calibration profiles need a data directory")
        return load_profile(name, self.data_dir)

    def calibration(self, deployment_id: int) -> CalibrationSummary | None:
        """The deployment's calibration profile (None when its threshold was set by hand)."""
        plan = self.show(deployment_id).deployment.plan
        if not plan.calibration_profile:
            return None
        p = self.profile(plan.calibration_profile)
        expected = plan.expected_false_alerts_per_1000
        return CalibrationSummary(
            profile=p.name,
            model_id=p.model_id,
            min_similarity=p.min_similarity,
            target_fpir=p.target_fpir,
            measured_fpir=p.measured_fpir,
            watchlist_size_reached=p.watchlist_size_reached,
            expected_false_alerts_per_1000_faces=(
                expected if expected is not None else p.expected_false_alerts_per_1000_faces
            ),
            measured_false_alerts_per_1000_faces=p.measured_false_alerts_per_1000_faces,
            tpir=p.tpir,
        )

    def threshold(
        self, profile: str | None, min_similarity: float | None, justification: str | None
    ) -> tuple[float, str]:
        """The alert threshold of a new deployment and its justification: given by hand, the
        calibrated one of ``profile`` (justified by what the calibration measured), or else the
        model's documented live threshold (``deployments.thresholds``)."""
        prof = self.profile(profile) if profile else None
        threshold = min_similarity if min_similarity is not None else (prof.min_similarity if prof else None)
        if threshold is None:  # one threshold story: the model's documented live threshold
            live = live_threshold()
            return live.min_similarity, justification or live.justification
        if justification:
            return threshold, justification
        if prof is None:
            raise InputError("give --justification for the threshold (or a calibration --profile)")
        if min_similarity is not None and min_similarity != prof.min_similarity:
            raise InputError(
                f"--min-similarity {min_similarity:g} is not profile {prof.name}'s calibrated "
                f"{prof.min_similarity:g}: give --justification"
            )
        return threshold, (
            f"calibration profile {prof.name} ({prof.model_id}): FPIR <= {prof.target_fpir:.3g} at "
            f"{prof.watchlist_size_reached} subjects, {prof.expected_false_alerts_per_1000_faces:g} false alerts "
            f"per 1,000 faces expected ({prof.measured_false_alerts_per_1000_faces:g} measured), "
            f"TPIR {prof.tpir:.3f}"
        )

    def create(self, actor: User, plan: DeploymentPlan) -> Deployment:
        actor.require(Permission.CREATE_DEPLOYMENT)
        with self._tx() as (tx, _):
            self.policy.check(tx, plan, "new deployment")
            d = tx.deployments.add(plan, created_by=actor.name, now=tx.clock.now())
            tx.audit.append(
                actor.name,
                "deployment.created",
                f"deployment:{d.id}",
                {
                    "min_similarity": plan.min_similarity,
                    "categories": ",".join(c.value for c in plan.categories),
                    "calibration_profile": plan.calibration_profile,
                },
            )
            return d

    def change_threshold(
        self, actor: User, deployment_id: int, min_similarity: float, justification: str
    ) -> Deployment:
        """Change a draft's alert threshold (audited with the old and new values)."""
        actor.require(Permission.CREATE_DEPLOYMENT)
        with self._tx() as (tx, _):
            old = tx.deployments.get(deployment_id)
            changed = old.change_threshold(min_similarity, justification)
            self.policy.check(tx, changed.plan, f"deployment {deployment_id}")
            d = tx.deployments.save(changed)
            tx.audit.append(
                actor.name,
                "deployment.threshold_changed",
                f"deployment:{d.id}",
                {"from": old.plan.min_similarity, "to": d.plan.min_similarity},
            )
            return d

    def authorise(self, actor: User, deployment_id: int, *, note: str | None = None) -> AuthorisationResult:
        """Authorise (a second person), freezing the snapshot; ``note``: the officer's reasons (audited)."""
        actor.require(Permission.AUTHORISE_DEPLOYMENT)
        with self._tx() as (tx, _):
            d = tx.deployments.get(deployment_id).authorise(actor.name, tx.clock.now())
            self.policy.check(tx, d.plan, f"deployment {deployment_id}")
            tx.deployments.save(d)
            frozen = freeze_snapshot(tx, d.id)
            snap, warn = frozen.snapshot, frozen.look_alikes
            profile = self.profile(d.plan.calibration_profile) if d.plan.calibration_profile else None
            if profile is not None and len(snap) and profile.model_id != snap.model_id:
                raise GovernanceError(
                    f"calibration profile {profile.name} is for model {profile.model_id}; the watch list's "
                    f"templates are from {snap.model_id}"
                )
            fa, basis = expected_false_alerts_per_1000(d.plan.min_similarity, len(snap), profile)
            counts: dict[str, int] = {}
            for s in snap.subjects:
                counts[s.category.value] = counts.get(s.category.value, 0) + 1
            plan = replace(
                d.plan,
                expected_false_alerts_per_1000=fa,
                estimate_basis=basis,
                category_counts=tuple(sorted(counts.items())),
            )
            d = tx.deployments.save(replace(d, plan=plan))
            tx.audit.append(
                actor.name,
                "deployment.authorised",
                f"deployment:{d.id}",
                {
                    "watchlist_size": len(snap),
                    "expected_false_alerts_per_1000": round(fa, 4),
                    "look_alikes": len(warn),
                    "overdue_excluded": frozen.overdue_excluded,
                    **({"note": note.strip()[:1000]} if note and note.strip() else {}),
                },
            )
            return AuthorisationResult(d, len(snap), fa, basis, warn, frozen.overdue_excluded)

    def publish_notice(self, actor: User, deployment_id: int) -> Deployment:
        """Publish an authorised deployment's notice: from now it is on the public site as upcoming."""
        actor.require(Permission.RUN_DEPLOYMENT)
        with self._tx() as (tx, _):
            now = tx.clock.now()
            d = tx.deployments.save(tx.deployments.get(deployment_id).publish_notice(actor.name, now))
            tx.audit.append(actor.name, "deployment.notice_published", f"deployment:{d.id}", {"at": now.isoformat()})
            return d

    def approve_late_start(self, actor: User, deployment_id: int, reason: str) -> Deployment:
        """An authorising officer's urgent override of the notice lead time (reason shown publicly)."""
        actor.require(Permission.AUTHORISE_DEPLOYMENT)
        with self._tx() as (tx, _):
            d = tx.deployments.save(tx.deployments.get(deployment_id).approve_late_start(actor.name, reason))
            tx.audit.append(actor.name, "deployment.late_start_approved", f"deployment:{d.id}", {"reason": reason})
            return d

    def start(self, actor: User, deployment_id: int) -> Deployment:
        actor.require(Permission.RUN_DEPLOYMENT)
        with self._tx() as (tx, _):
            d = tx.deployments.get(deployment_id).start(tx.clock.now(), notice_lead_time=tx.policy.notice_lead_time)
            d = tx.deployments.save(d)
            tx.audit.append(actor.name, "deployment.started", f"deployment:{d.id}", {})
            return d

    def stop(self, actor: User, deployment_id: int, reason: str = "stopped by operator") -> Deployment:
        actor.require(Permission.RUN_DEPLOYMENT)
        with self._tx() as (tx, _):
            d = tx.deployments.save(tx.deployments.get(deployment_id).stop(tx.clock.now(), reason))
            tx.audit.append(actor.name, "deployment.stopped", f"deployment:{d.id}", {"reason": reason})
            return d

    def fail(self, deployment_id: int, reason: str, *, fence: Fence | None = None) -> Deployment | None:
        """The runtime could not run an active deployment and will not retry: stop it with
        ``reason`` (e.g. ``failed to start: ...``), persisted and audited once. None when the
        deployment is no longer active (someone stopped it meanwhile). ``fence``: a leading
        worker's fencing token (a stale one raises :class:`~overt.errors.StaleLeaseError`)."""
        reason = reason.strip()[:500] or "failed"
        with self._tx() as (tx, _):
            if fence is not None:
                LeaseRepository(tx.session).check_fence(fence)
            d = tx.deployments.get(deployment_id)
            if d.state is not DeploymentState.ACTIVE:
                return None
            d = tx.deployments.save(d.stop(tx.clock.now(), reason))
            tx.audit.append("system", "deployment.failed", f"deployment:{d.id}", {"reason": reason})
            return d

    def close(self, actor: User, deployment_id: int) -> Deployment:
        """Close and crypto-shred: only its creator, its authorising officer or an admin."""
        actor.require(Permission.RUN_DEPLOYMENT)
        with self._tx() as (tx, _):
            current = tx.deployments.get(deployment_id)
            if actor.role is not Role.ADMIN and actor.name not in (current.created_by, current.authorised_by):
                raise AuthError(
                    f"user {actor.name} may not close deployment {deployment_id}: only its creator, its "
                    "authorising officer or an admin may close (and destroy) it"
                )
            d = tx.deployments.save(current.close(tx.clock.now()))
            tx.audit.append(actor.name, "deployment.closed", f"deployment:{d.id}", {})
            info = tx.snapshots.info(d.id)
            if tx.snapshots.destroy(d.id, now=tx.clock.now()):
                tx.audit.append(
                    actor.name,
                    "snapshot.destroyed",
                    f"deployment:{d.id}",
                    {"entries": info.entry_count if info else 0},
                )
        self.store.db.checkpoint()
        return d

    def record_faces_processed(self, deployment_id: int, n: int, *, fence: Fence | None = None) -> None:
        """Faces processed (= faces searched against the watch list, ``Counters.faces_processed``),
        for the transparency report's false alerts per 1,000 faces; under ``fence`` as :meth:`fail`."""
        with self.store.transaction() as tx:
            if fence is not None:
                LeaseRepository(tx.session).check_fence(fence)
            tx.deployments.add_faces_processed(deployment_id, n)

    def is_active(self, deployment_id: int) -> bool:
        with self._tx() as (tx, _):
            return tx.deployments.get(deployment_id).state is DeploymentState.ACTIVE

    def show(self, deployment_id: int) -> DeploymentView:
        with self._tx() as (tx, _):
            return DeploymentView(tx.deployments.get(deployment_id), tx.snapshots.info(deployment_id))

    def find(self, state: DeploymentState | None = None) -> list[DeploymentView]:
        with self._tx() as (tx, _):
            return [DeploymentView(d, tx.snapshots.info(d.id)) for d in tx.deployments.find(state)]


@contextmanager
def _enforcing(store: Store) -> Iterator[tuple[Tx, TickResult]]:
    """Apply :func:`enforce` in its own committed transaction, then open the caller's.

    The automatic stop and the shredding persist even when the caller's action is refused.
    """
    with store.transaction() as tx:
        result = enforce(tx)
    if result.shredded:
        store.db.checkpoint()
    with store.transaction() as tx:
        yield tx, result
