"""Helpers shared by governance tests: users, plans, fake templates."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np

from overt.alerts.review import AlertService
from overt.deployments import DeploymentService
from overt.domain.deployments import DeploymentPlan
from overt.domain.templates import Template
from overt.domain.users import Role, User
from overt.domain.watchlist import Category, EntryDetails, EntryProvenance
from overt.store import Store
from overt.users import UserService

MODEL = "arcface_w600k_mbf"


def template(seed: int, dim: int = 512) -> Template:
    return Template(np.random.default_rng(seed).standard_normal(dim).astype(np.float32), MODEL)


def plan(start: datetime, hours: float = 6, *, threshold: float = 0.45) -> DeploymentPlan:
    return DeploymentPlan(
        purpose="Locate people wanted by the courts",
        legal_basis="common law policing powers; force LFR policy v3",
        place="High Street, outside the station",
        planned_start=start,
        planned_end=start + timedelta(hours=hours),
        criteria="wanted by court for serious offences",
        categories=(Category.WANTED_BY_COURT, Category.MISSING_PERSON),
        min_similarity=threshold,
        threshold_justification="vendor calibration at FPIR 1/1000",
    )


def publish_late(svc: DeploymentService, u: dict[str, User], deployment_id: int) -> None:
    """Publish the notice and have an officer approve an urgent start (tests run inside the lead time)."""
    svc.publish_notice(u["op"], deployment_id)
    svc.approve_late_start(u["officer"], deployment_id, "urgent: test of the start path")


def users(store: Store) -> dict[str, User]:
    svc = UserService(store)
    admin = svc.create_first_admin("admin", "admin-password")
    out = {"admin": admin}
    for name, role in [
        ("officer", Role.AUTHORISING_OFFICER),
        ("officer2", Role.AUTHORISING_OFFICER),
        ("op", Role.OPERATOR),
        ("wm", Role.WATCHLIST_MANAGER),
        ("aud", Role.AUDITOR),
    ]:
        out[name] = svc.add(admin, name, role, f"{name}-pass-phrase")
    return out


def add_entry(store: Store, ref: str, seed: int, category: Category = Category.WANTED_BY_COURT) -> int:
    with store.transaction() as tx:
        return tx.watchlist.add(
            EntryDetails(ref, "warrant", "custody photo"),
            EntryProvenance(category, "PACE s64A", date(2025, 1, 1), date(2027, 1, 1)),
            image=b"\xff\xd8\xff\xe0img",
            template=template(seed),
            added_by="wm",
            now=store.clock.now(),
        )


def started_with_alerts(store: Store, now: datetime, n: int = 3) -> tuple[dict[str, User], int, list[int]]:
    """Users, a started deployment and ``n`` alerts raised on it (entry 1, similarity 0.6)."""
    u = users(store)
    svc = DeploymentService(store)
    d = svc.create(u["op"], plan(now, hours=2))
    svc.authorise(u["officer"], d.id)
    publish_late(svc, u, d.id)
    svc.start(u["op"], d.id)
    kw = {"deployment_id": d.id, "camera_id": "cam", "entry_id": 1, "similarity": 0.6, "crop_jpeg": b"jpeg"}
    ids = [AlertService(store).record(raised_at=now, **kw).id for _ in range(n)]  # type: ignore[arg-type]
    return u, d.id, ids
