from __future__ import annotations

from datetime import timedelta

import pytest

from overt.alerts.review import AlertService
from overt.deployments import DeploymentService
from overt.domain.clock import FakeClock
from overt.errors import AuthError, GovernanceError
from overt.retention import purge, retain_alert
from overt.store import Store
from tests.gov_helpers import plan, publish_late, users


def test_alert_path_is_governed_and_audited(store: Store, clock: FakeClock) -> None:
    u = users(store)
    svc = DeploymentService(store)
    alerts = AlertService(store)
    d = svc.create(u["op"], plan(clock.now(), hours=2))
    kw = {"deployment_id": d.id, "camera_id": "cam", "entry_id": 1, "similarity": 0.6, "crop_jpeg": b"jpeg"}
    with pytest.raises(GovernanceError, match="refused"):
        alerts.record(raised_at=clock.now(), **kw)  # type: ignore[arg-type]
    svc.authorise(u["officer"], d.id)
    publish_late(svc, u, d.id)
    svc.start(u["op"], d.id)
    a = alerts.record(raised_at=clock.now(), **kw)  # type: ignore[arg-type]
    with pytest.raises(AuthError):
        alerts.crop(u["aud"], a.id)
    assert alerts.crop(u["op"], a.id) == b"jpeg"
    alerts.adjudicate(u["op"], a.id, "false_match")
    b = alerts.record(raised_at=clock.now(), **kw)  # type: ignore[arg-type]
    retain_alert(store, u["op"], b.id, reason="complaint received", until=clock.now() + timedelta(days=7))
    clock.advance(timedelta(hours=3))  # past the end: auto-stopped, alerts refused
    with pytest.raises(GovernanceError, match="refused"):
        alerts.record(raised_at=clock.now(), **kw)  # type: ignore[arg-type]
    clock.advance(timedelta(hours=23))  # 24 h after the planned end
    r = purge(store, "admin")
    assert r.alerts == (a.id,)
    assert r.snapshots_destroyed == (d.id,)
    with store.transaction() as tx:
        assert [x.id for x in tx.alerts.find()] == [b.id]
        actions = [e.action for e in tx.audit.entries()]
        assert tx.audit.verify().ok
    for action in ("alert.raised", "alert.viewed", "alert.adjudicated", "alert.retained", "alert.deleted"):
        assert action in actions
    clock.advance(timedelta(days=7))
    assert purge(store, "admin").alerts == (b.id,)
