"""The purge job (``overt purge [--dry-run]``): every deletion is audited.

Alerts older than ``Policy.alert_retention`` (default 24 h) are deleted with their sealed crop
and its per-alert key, unless retained as evidence (reason + expiry) and not yet expired.
Spooled alerts (``<data-dir>/spool``: sealed alerts waiting for delivery) older than the same
period are dropped too. The same run applies the deployment time rules (automatic stop,
snapshot key destruction).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from overt.alerts.spool import purge_spools
from overt.audit.log import DetailValue
from overt.deployments.service import DeploymentService
from overt.domain.users import Permission, User
from overt.errors import InputError
from overt.store.store import Store


@dataclass(frozen=True, slots=True)
class PurgeResult:
    dry_run: bool
    alerts: tuple[int, ...]
    snapshots_destroyed: tuple[int, ...]
    deployments_stopped: tuple[int, ...]
    seconds: float
    spooled_dropped: int = 0


def purge(
    store: Store, actor: str = "system", *, dry_run: bool = False, spool_folder: Path | None = None
) -> PurgeResult:
    t0 = time.perf_counter()
    spooled = 0
    with store.transaction() as tx:
        now = tx.clock.now()
        due = tx.alerts.due_for_purge(now, tx.policy.alert_retention)
        if not dry_run:
            for a in due:
                tx.alerts.delete(a.id)
                tx.audit.append(
                    actor,
                    "alert.deleted",
                    f"alert:{a.id}",
                    {"deployment": a.deployment_id, "reason": "retention period ended", "had_image": a.has_crop},
                )
        if spool_folder is not None and not dry_run:
            spooled = purge_spools(spool_folder, now - tx.policy.alert_retention)
            if spooled:
                tx.audit.append(actor, "spool.purged", "spool", {"records": spooled})
        tx.audit.append(actor, "purge.run", "", {"dry_run": dry_run, "alerts_due": len(due)})
    stopped: tuple[int, ...] = ()
    shredded: tuple[int, ...] = ()
    if not dry_run:
        tick = DeploymentService(store).tick()
        stopped, shredded = tick.stopped, tick.shredded
        store.db.checkpoint()
    return PurgeResult(dry_run, tuple(a.id for a in due), shredded, stopped, time.perf_counter() - t0, spooled)


MAX_RETAIN_DAYS = 3 * 365
"""The longest an alert is held as evidence in one step (it can be retained again before then)."""


def retain_alert(
    store: Store, actor: User, alert_id: int, *, reason: str, until: datetime, days: int | None = None
) -> None:
    """Hold an alert (and its image) as evidence until ``until``, with a reason (audited, with the
    period in ``days`` when it was chosen as one)."""
    actor.require(Permission.ADJUDICATE)
    now = store.clock.now()
    if until <= now:
        raise InputError("retention expiry must be in the future")
    if until > now + timedelta(days=MAX_RETAIN_DAYS):
        raise InputError(f"an alert is kept as evidence for at most {MAX_RETAIN_DAYS:,} days")
    with store.transaction() as tx:
        tx.alerts.retain(alert_id, reason=reason, until=until)
        details: dict[str, DetailValue] = {"until": until.isoformat()}
        if days is not None:
            details["days"] = days
        tx.audit.append(actor.name, "alert.retained", f"alert:{alert_id}", details)
