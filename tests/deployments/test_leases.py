"""Pipeline leadership through leases, on SQLite and PostgreSQL: one holder at a time, takeover
after expiry, renewal, clean hand-over, and a holder that cannot renew stops its work."""

from __future__ import annotations

import threading
import time

import pytest

from overt.deployments.leases import Leadership, LeaseService, deployment_lease
from overt.store import Store


def leads(x: Leadership) -> bool:
    return x.leader


def test_one_holder_at_a_time_and_takeover_after_expiry(store: Store) -> None:
    leases = LeaseService(store, ttl_s=0.6)
    name = deployment_lease(7)
    assert leases.acquire(name, "a")
    assert not leases.acquire(name, "b")  # held
    first = leases.get(name)
    assert first is not None
    assert first.holder == "a"
    assert leases.acquire(name, "a")  # renewal keeps the tenure
    renewed = leases.get(name)
    assert renewed is not None
    assert renewed.acquired_s == first.acquired_s
    assert renewed.expires_s >= first.expires_s
    time.sleep(0.8)
    assert leases.acquire(name, "b")  # expired: b takes over
    assert not leases.acquire(name, "a")
    assert not leases.release(name, "a")  # only the holder releases
    assert leases.release(name, "b")
    assert leases.acquire(name, "a")


def test_racing_workers_never_both_win(store: Store) -> None:
    leases = LeaseService(store, ttl_s=30)
    wins: list[str] = []
    barrier = threading.Barrier(4)

    def race(who: str) -> None:
        barrier.wait()
        if leases.acquire("deployment:1", who):
            wins.append(who)

    threads = [threading.Thread(target=race, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1


def test_leadership_hands_over_when_the_leader_dies(store: Store) -> None:
    leases = LeaseService(store, ttl_s=1.0)
    events: list[str] = []
    a = Leadership(
        leases, "deployment:3", holder="a", on_gain=lambda: events.append("a+"), on_lose=events.append, renew_s=0.2
    )
    b = Leadership(
        leases, "deployment:3", holder="b", on_gain=lambda: events.append("b+"), on_lose=events.append, renew_s=0.2
    )
    a.tick()
    b.tick()
    assert a.leader
    assert not b.leader
    deadline = time.monotonic() + 10
    while not leads(b):  # a "dies": it stops renewing; b takes over once the lease expires (1 s)
        assert time.monotonic() < deadline
        b.tick()
        time.sleep(0.1)
    a.tick()  # a comes back: it sees the lease gone and stops its work
    assert not leads(a)
    assert events == ["a+", "b+", "lease taken over by another worker"]
    b.stop()  # a clean stop releases at once
    assert leases.get("deployment:3") is None


def test_a_leader_that_cannot_renew_stops_before_expiry(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    leases = LeaseService(store, ttl_s=1.0)
    lost: list[str] = []
    a = Leadership(leases, "deployment:4", holder="a", on_gain=lambda: None, on_lose=lost.append, renew_s=0.2)
    a.tick()
    assert a.leader

    def down(name: str, holder: str) -> bool:
        raise OSError("database unreachable")

    monkeypatch.setattr(leases, "acquire", down)
    a.tick()
    assert a.leader  # one missed renewal is tolerated
    time.sleep(0.9)
    a.tick()
    assert not leads(a)
    assert lost == ["lease could not be renewed"]
