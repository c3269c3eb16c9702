from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import delete, select

from overt.alerts import review
from overt.alerts.review import AlertQuality, AlertService, IncomingAlert
from overt.deployments import DeploymentService
from overt.deployments.policy import PolicyService
from overt.domain.clock import FakeClock
from overt.domain.users import User
from overt.errors import AuthError, GovernanceError, StorageError
from overt.retention import purge, retain_alert
from overt.store import Store
from overt.store.models import AlertDetailsRow, AlertReviewRow, AlertRow
from tests.gov_helpers import add_entry, plan, publish_late, users


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


# -- ids, ingest and cascades (issue 9: alert ids were reused after a purge) ------------------------


def _active(store: Store, clock: FakeClock, hours: float = 6, threshold: float = 0.45) -> tuple[dict[str, User], int]:
    """A running deployment whose snapshot holds one entry (ingest checks the alert names it)."""
    u = users(store)
    add_entry(store, "CASE-1", 1)
    if hours > 12:  # longer than the default policy allows: an admin's explicit, audited change
        PolicyService(store).change(u["admin"], reason="multi-day event", max_window_h=hours)
    svc = DeploymentService(store)
    d = svc.create(u["op"], plan(clock.now(), hours=hours, threshold=threshold))
    svc.authorise(u["officer"], d.id)
    publish_late(svc, u, d.id)
    svc.start(u["op"], d.id)
    return u, d.id


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (112, 112), (9, 9, 9)).save(buf, "JPEG")
    return buf.getvalue()


_JPEG = _jpeg()


def _incoming(clock: FakeClock, remote_id: str) -> IncomingAlert:
    return IncomingAlert(
        remote_id=remote_id,
        camera_id="cam-1",
        entry_id=1,  # the only entry in the snapshot (see _active)
        similarity=0.7,
        track_id="3",
        raised_at=clock.now(),
        crop_jpeg=_JPEG,
        quality=AlertQuality(90.0, 0.9, 120.0, 3.0, -2.0),
        latency_ms=120.0,
        frame_index=42,
    )


def _rows(store: Store) -> tuple[list[int], list[int], list[int]]:
    with store.db.session() as s:
        return (
            list(s.scalars(select(AlertRow.id).order_by(AlertRow.id))),
            list(s.scalars(select(AlertDetailsRow.alert_id).order_by(AlertDetailsRow.alert_id))),
            list(s.scalars(select(AlertReviewRow.alert_id).order_by(AlertReviewRow.alert_id))),
        )


def test_purge_then_ingest_never_reuses_an_id_nor_inherits_a_proposal(store: Store, clock: FakeClock) -> None:
    u, dep = _active(store, clock, hours=72)  # still running after the 24 h alert retention
    alerts = AlertService(store, second_person=True)
    first, dup = alerts.ingest("edge", dep, _incoming(clock, "uuid-1"))
    assert not dup
    view, counted = alerts.adjudicate(u["op"], first, "true_match", "arrested")
    assert view.pending is not None
    assert not counted
    clock.advance(timedelta(hours=25))
    assert purge(store, "admin").alerts == (first,)
    assert _rows(store) == ([], [], [])  # details and the pending proposal went with their alert
    # old main: the next alert got the same id, inherited the proposal, and its details insert
    # failed with an IntegrityError after the alert row had been committed
    second, dup = alerts.ingest("edge", dep, _incoming(clock, "uuid-2"))
    assert not dup
    assert second > first
    view = alerts.get(second)
    assert view.pending is None
    assert view.quality.size_px == 90.0
    # op may adjudicate it (no stale proposal by op binds it); the proposal is a fresh one
    view, counted = alerts.adjudicate(u["op"], second, "true_match")
    assert view.pending is not None
    assert view.pending.proposed_at == clock.now()


def test_double_ingest_returns_the_stored_alert(store: Store, clock: FakeClock) -> None:
    _, dep = _active(store, clock)
    alerts = AlertService(store)
    a, dup1 = alerts.ingest("edge", dep, _incoming(clock, "uuid-1"))
    b, dup2 = alerts.ingest("edge", dep, _incoming(clock, "uuid-1"))
    assert (b, dup1, dup2) == (a, False, True)
    assert _rows(store) == ([a], [a], [])
    with store.transaction() as tx:
        assert tx.deployments.get(dep).counters.alerts_raised == 1
        assert [e.action for e in tx.audit.entries()].count("alert.raised") == 1


def test_concurrent_double_ingest_stores_one_alert(store: Store, clock: FakeClock) -> None:
    _, dep = _active(store, clock)
    alerts = AlertService(store)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: alerts.ingest("edge", dep, _incoming(clock, "uuid-race")), range(4)))
    ids = {r[0] for r in results}
    assert len(ids) == 1
    assert sorted(r[1] for r in results) == [False, True, True, True]
    assert _rows(store)[0] == list(ids)


def test_ingest_failure_rolls_back_everything(store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    _, dep = _active(store, clock)
    alerts = AlertService(store)
    with store.transaction() as tx:
        audit_before = len(tx.audit.entries())

    class Broken:  # the details row fails after the alert row and its audit entry were written
        alert_id = AlertDetailsRow.alert_id
        remote_id = AlertDetailsRow.remote_id

        def __init__(self, **kw: object) -> None:
            raise StorageError("disk full while writing the details")

    monkeypatch.setattr(review, "AlertDetailsRow", Broken)
    with pytest.raises(StorageError):
        alerts.ingest("edge", dep, _incoming(clock, "uuid-1"))
    monkeypatch.undo()
    assert _rows(store) == ([], [], [])
    with store.transaction() as tx:
        assert tx.deployments.get(dep).counters.alerts_raised == 0
        assert len(tx.audit.entries()) == audit_before
    # the edge retries: stored once, not reported as a duplicate of a half-stored alert
    a, dup = alerts.ingest("edge", dep, _incoming(clock, "uuid-1"))
    assert not dup
    assert _rows(store) == ([a], [a], [])


def test_details_and_reviews_cascade_with_their_alert(store: Store, clock: FakeClock) -> None:
    u, dep = _active(store, clock)
    alerts = AlertService(store, second_person=True)
    a, _ = alerts.ingest("edge", dep, _incoming(clock, "uuid-1"))
    b, _ = alerts.ingest("edge", dep, _incoming(clock, "uuid-2"))
    alerts.adjudicate(u["op"], a, "true_match")
    alerts.adjudicate(u["op"], b, "true_match")
    assert _rows(store) == ([a, b], [a, b], [a, b])
    with store.db.session() as s:  # a plain DELETE, as any tool would issue it
        s.execute(delete(AlertRow).where(AlertRow.id == a))
    assert _rows(store) == ([b], [b], [b])
