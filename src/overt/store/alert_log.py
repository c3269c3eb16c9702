"""The governed alert path for the pipeline and the API: record, view, adjudicate, all audited.

``record_alert`` refuses alerts for a deployment that is not active (the deployment's time
rules are applied first), seals the probe crop under a per-alert key, and writes an
``alert.raised`` audit entry with ids and the similarity only.
"""

from __future__ import annotations

from datetime import datetime

from overt.deployments.service import DeploymentService
from overt.domain.deployments import DeploymentState
from overt.domain.users import Permission, User
from overt.errors import GovernanceError
from overt.store.repositories import StoredAlert, Verdict
from overt.store.store import Store


def record_alert(
    store: Store,
    *,
    deployment_id: int,
    camera_id: str,
    entry_id: int | None,
    similarity: float,
    raised_at: datetime,
    crop_jpeg: bytes | None = None,
    track_id: str | None = None,
) -> StoredAlert:
    DeploymentService(store).tick()
    with store.transaction() as tx:
        d = tx.deployments.get(deployment_id)
        if d.state is not DeploymentState.ACTIVE:
            raise GovernanceError(f"deployment {deployment_id} is {d.state.value}; alerts are refused")
        a = tx.alerts.add(
            deployment_id=deployment_id,
            camera_id=camera_id,
            entry_id=entry_id,
            similarity=similarity,
            raised_at=raised_at,
            crop=crop_jpeg,
            track_id=track_id,
        )
        tx.audit.append(
            "system",
            "alert.raised",
            f"alert:{a.id}",
            {"deployment": deployment_id, "camera": camera_id, "entry": entry_id, "similarity": round(similarity, 4)},
        )
        return a


def view_alert_crop(store: Store, actor: User, alert_id: int) -> bytes:
    actor.require(Permission.ADJUDICATE)
    with store.transaction() as tx:
        crop = tx.alerts.crop(alert_id)
        tx.audit.append(actor.name, "alert.viewed", f"alert:{alert_id}", {})
        return crop


def adjudicate_alert(
    store: Store,
    actor: User,
    alert_id: int,
    verdict: Verdict,
    *,
    engaged: bool = False,
    outcome: str | None = None,
) -> StoredAlert:
    actor.require(Permission.ADJUDICATE)
    with store.transaction() as tx:
        a = tx.alerts.adjudicate(alert_id, verdict, by=actor.name, now=tx.clock.now(), engaged=engaged, outcome=outcome)
        tx.audit.append(
            actor.name,
            "alert.adjudicated",
            f"alert:{alert_id}",
            {"verdict": verdict, "engaged": engaged, "outcome": outcome},
        )
        return a
