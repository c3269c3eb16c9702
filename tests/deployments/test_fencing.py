"""Fencing tokens on a deployment's lease (SQLite and PostgreSQL): each new holder gets the next
epoch, a write under an older one is refused in its own transaction (nothing stored), and the
refused leader stops its work at once."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from overt.alerts.review import AlertService, IncomingAlert
from overt.deployments import DeploymentService
from overt.deployments.leases import Leadership, LeaseService, deployment_lease
from overt.deployments.sinks import StoreAlertSink
from overt.domain.clock import FakeClock
from overt.domain.leases import Fence
from overt.errors import InputError, StaleLeaseError, StorageError
from overt.store import Store
from overt.store.models import AlertDetailsRow, AlertRow, DeploymentRow
from overt.store.repositories.leases import IDLE_LOCK_MS, LeaseRepository
from tests.alerts.conftest import make_alert
from tests.deployments.test_runtime import _active

TTL_S = 0.6


def _alert(clock: FakeClock, alert_id: str) -> IncomingAlert:
    return IncomingAlert.from_alert(replace(make_alert(alert_id, subject="1"), alerted_at=clock.now()))


def _stored(store: Store) -> int:
    with store.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(AlertRow)) or 0)


def _faces(store: Store, dep: int) -> int:
    with store.db.session() as s:
        return int(s.scalar(select(DeploymentRow.faces_processed).where(DeploymentRow.id == dep)) or 0)


def _taken_over(leases: LeaseService, name: str) -> tuple[Fence, Fence]:
    """A takes the lease, it expires (A paused), B takes it over: (A's fence, B's fence)."""
    a = leases.acquire(name, "a")
    assert a is not None
    time.sleep(TTL_S + 0.2)
    b = leases.acquire(name, "b")
    assert b is not None
    return a, b


def test_each_new_holder_gets_the_next_token_and_it_never_goes_back(store: Store) -> None:
    leases = LeaseService(store, ttl_s=TTL_S)
    name = deployment_lease(1)
    a, b = _taken_over(leases, name)
    assert (a.token, b.token) == (1, 2)
    assert leases.acquire(name, "b") == b  # a renewal keeps the token
    assert leases.acquire(name, "a") is None
    assert leases.release(name, "b")
    assert leases.get(name) is None  # released ...
    again = leases.acquire(name, "a")
    assert again is not None
    assert again.token == 3  # ... but its epoch is kept: a token is never issued twice
    with pytest.raises(InputError):
        Fence(name, 0)


def test_a_stale_leaders_writes_are_refused_and_nothing_is_stored(store: Store, clock: FakeClock) -> None:
    dep = _active(store, clock, entries=1)
    alerts, deployments = AlertService(store), DeploymentService(store)
    a, b = _taken_over(LeaseService(store, ttl_s=TTL_S), deployment_lease(dep))

    with pytest.raises(StaleLeaseError, match=r"fencing token 1 is stale \(the lease is at epoch 2\)"):
        alerts.ingest("pipeline", dep, _alert(clock, "from-a"), local=True, fence=a)
    assert _stored(store) == 0
    with pytest.raises(StaleLeaseError):
        deployments.record_faces_processed(dep, 5, fence=a)
    with pytest.raises(StaleLeaseError):
        deployments.fail(dep, "failed to start: camera", fence=a)
    assert _faces(store, dep) == 0
    assert deployments.is_active(dep)  # the stale leader could not stop it

    stored, dup = alerts.ingest("pipeline", dep, _alert(clock, "from-b"), local=True, fence=b)
    assert not dup
    deployments.record_faces_processed(dep, 5, fence=b)
    assert _stored(store) == 1
    assert _faces(store, dep) == 5
    with store.db.session() as s:
        details = s.get(AlertDetailsRow, stored)
        assert details is not None
        assert json.loads(details.details_json)["lease_epoch"] == 2  # which tenure wrote it


def test_a_refused_leader_stops_its_work(store: Store, clock: FakeClock) -> None:
    """Leader A is paused past its lease (it does not tick); B takes over; A resumes and its
    pipeline's next alert is refused before its lease thread has noticed: the sink raises (the
    pipeline stops), nothing is stored, and A's lease thread stops the work at once."""
    dep = _active(store, clock, entries=1)
    leases = LeaseService(store, ttl_s=TTL_S)
    events: list[str] = []
    a, b = (
        Leadership(
            leases,
            deployment_lease(dep),
            holder=who,
            on_gain=lambda who=who: events.append(f"{who}+"),  # type: ignore[misc]
            on_lose=events.append,
            renew_s=0.1,
        )
        for who in "ab"
    )
    a.tick()
    assert a.fence == Fence(deployment_lease(dep), 1)
    sink = StoreAlertSink(AlertService(store), dep, fence=a.fence, on_stale=a.fenced)
    sink.emit(replace(make_alert("before", subject="1"), alerted_at=clock.now()))
    time.sleep(TTL_S + 0.2)  # A is paused: no renewal
    b.tick()
    assert b.leader
    assert b.fence == Fence(deployment_lease(dep), 2)
    with pytest.raises(StaleLeaseError):
        sink.emit(replace(make_alert("after", subject="1"), alerted_at=clock.now()))
    assert (sink.stored, sink.refused, a.refused) == (1, 1, 1)
    assert _stored(store) == 1
    a.start()  # A's lease thread runs again: it stops the work on its first round
    deadline = time.monotonic() + 5
    while a.leader:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    a.stop()
    assert events == ["a+", "b+", "fenced: another worker took the lease over"]
    assert a.fence is None


def test_a_leader_frozen_inside_a_write_cannot_block_the_takeover(store: Store) -> None:
    """PostgreSQL: a fenced write locks the lease row until it commits; a leader frozen mid-write
    (SIGSTOP) would hold that lock for ever, so the server ends such an idle transaction."""
    if store.db.is_sqlite:
        pytest.skip("SQLite: one host, BEGIN IMMEDIATE; the frozen-client timeout is PostgreSQL's")
    leases = LeaseService(store, ttl_s=TTL_S)
    name = deployment_lease(9)
    a = leases.acquire(name, "a")
    assert a is not None
    outcome: list[BaseException | None] = []

    def frozen_write() -> None:
        try:
            with store.db.session() as s:
                LeaseRepository(s).check_fence(a)
                time.sleep(IDLE_LOCK_MS / 1000 + 1.5)  # the process is frozen with the row locked
            outcome.append(None)
        except Exception as exc:
            outcome.append(exc)

    t = threading.Thread(target=frozen_write)
    t.start()
    time.sleep(TTL_S + 0.2)
    b = leases.acquire(name, "b")  # waits for the lock until the server ends A's transaction
    t.join()
    assert b is not None
    assert b.token == 2
    assert len(outcome) == 1
    assert isinstance(outcome[0], StorageError)  # the frozen writer's transaction was ended


def test_a_leader_that_lost_its_lease_meanwhile_restarts_under_the_new_token(store: Store) -> None:
    """A paused leader whose lease was taken over and given back before it ran again is not the
    same tenure: it stops the work started under the old token and starts it again."""
    leases = LeaseService(store, ttl_s=TTL_S)
    name = deployment_lease(5)
    events: list[str] = []
    a = Leadership(leases, name, holder="a", on_gain=lambda: events.append("a+"), on_lose=events.append, renew_s=0.1)
    a.tick()
    time.sleep(TTL_S + 0.2)
    assert leases.acquire(name, "b") is not None
    assert leases.release(name, "b")
    a.tick()
    assert events == ["a+", "lease taken over by another worker meanwhile", "a+"]
    assert a.fence == Fence(name, 3)


def test_a_stale_leader_cannot_fail_the_deployment_nor_retry(store: Store, clock: FakeClock) -> None:
    """A permanent failure would stop the deployment: from a stale leader that write is refused,
    the deployment keeps running under the new leader, and the stale one never launches again."""
    from types import SimpleNamespace

    from tests.deployments.test_runtime import _audit, _run

    dep = _active(store, clock, entries=0)  # an empty watch list: a permanent failure at launch
    a, _b = _taken_over(LeaseService(store, ttl_s=TTL_S), deployment_lease(dep))
    refused: list[StaleLeaseError] = []
    engine = SimpleNamespace(embedder=SimpleNamespace(model_id="arcface_w600k_mbf"))
    sup = _run(store, dep, engine, [], fence=a, on_stale=refused.append)
    assert sup.status.launches == 1  # not retried
    assert len(refused) == 1
    assert sup.status.failed == "fenced: another worker leads this deployment"
    assert DeploymentService(store).is_active(dep)
    assert _audit(store, "deployment.failed") == 0
