"""Login throttling in the database (SQLite and PostgreSQL): two stores stand for two API processes
(each its own engine and connection pool) on one database, and share one guessing budget."""

from __future__ import annotations

import threading

import pytest

from overt.api.auth import Authenticator
from overt.api.settings import ApiSettings
from overt.crypto.keys import MemoryKeyStore
from overt.store import Store
from overt.store.repositories.login_throttle import ANY_ADDRESS, LoginThrottleRepository
from overt.users.db_throttle import DbLoginThrottle
from overt.users.throttle import LoginThrottle
from tests.store_fixtures import OpenStore


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def _pair(open_store: OpenStore, clock: Clock, **rules: float) -> tuple[DbLoginThrottle, DbLoginThrottle]:
    keys = MemoryKeyStore()  # one database, one key; two engines: two processes
    one, two = open_store(keys), open_store(keys)
    return DbLoginThrottle(store=one, clock=clock, **rules), DbLoginThrottle(store=two, clock=clock, **rules)  # type: ignore[arg-type]


def test_two_processes_share_one_accounts_budget(open_store: OpenStore) -> None:
    clock = Clock()
    one, two = _pair(open_store, clock, free_failures=3, base_s=30.0, max_s=60.0)
    procs = [one, two]
    for i in range(3):  # the guesser alternates between the processes behind a load balancer
        p = procs[i % 2]
        assert p.retry_after_s("op", f"198.51.100.{i}") == 0
        p.failed("op", f"198.51.100.{i}")
    # one budget, not two: both processes slow the account down now, from any address
    assert one.retry_after_s("op", "198.51.100.50") == 30
    assert two.retry_after_s("op", "198.51.100.51") == 30
    memory = [LoginThrottle(free_failures=3, base_s=30.0, clock=clock) for _ in range(2)]
    for i in range(3):
        memory[i % 2].failed("op", "198.51.100.1")
    assert memory[0].retry_after_s("op", "198.51.100.1") == 0  # what per-process memory allowed


def test_the_delay_doubles_across_processes_and_is_capped(open_store: OpenStore) -> None:
    clock = Clock()
    one, two = _pair(open_store, clock, free_failures=1, base_s=2.0, max_s=60.0)
    waits = []
    for i in range(8):
        (one if i % 2 else two).failed("aud", "198.51.100.9")
        waits.append(one.retry_after_s("aud", "198.51.100.9"))
    assert waits == [2, 4, 8, 16, 32, 60, 60, 60]
    clock.t += 60
    assert two.retry_after_s("aud", "198.51.100.9") == 0  # a delay, never a lock-out


def test_the_owner_keeps_their_usual_address_on_every_process(open_store: OpenStore) -> None:
    clock = Clock()
    one, two = _pair(open_store, clock, free_failures=3, base_s=30.0)
    one.succeeded("op", "203.0.113.7")  # the owner's desk, through process 1
    for _ in range(6):
        two.failed("op", "198.51.100.66")  # the attacker, through process 2
    assert one.retry_after_s("op", "198.51.100.66") > 0
    assert two.retry_after_s("op", "203.0.113.7") == 0  # still gets in, wherever the request lands
    for _ in range(3):  # guesses *at* the known address have their own counter
        one.failed("op", "203.0.113.7")
    assert two.retry_after_s("op", "203.0.113.7") == 30
    two.succeeded("op", "203.0.113.7")
    assert one.retry_after_s("op", "203.0.113.7") == 0
    assert one.retry_after_s("op", "198.51.100.66") == 0  # a login ends the account's delay too


def test_known_addresses_expire(open_store: OpenStore) -> None:
    clock = Clock()
    one, two = _pair(open_store, clock, free_failures=1, base_s=30.0, known_for_s=100.0)
    one.succeeded("op", "203.0.113.7")
    two.failed("op", "198.51.100.66")
    assert one.retry_after_s("op", "203.0.113.7") == 0
    clock.t += 101
    two.failed("op", "198.51.100.66")
    assert one.retry_after_s("op", "203.0.113.7") == 60  # no longer known: the account's own counter (2nd failure)


def test_the_per_address_window_is_shared(open_store: OpenStore) -> None:
    clock = Clock()
    one, two = _pair(open_store, clock, address_max_failures=4, address_window_s=600.0)
    for i in range(4):  # spraying many accounts from one address, over both processes
        assert (one if i % 2 else two).retry_after_s(f"user{i}", "198.51.100.1") == 0
        (one if i % 2 else two).failed(f"user{i}", "198.51.100.1")
        clock.t += 10
    assert one.retry_after_s("user99", "198.51.100.1") == 600 - 40
    assert two.retry_after_s("user99", "198.51.100.2") == 0  # other addresses are not affected
    clock.t += 600 - 40 + 1
    assert two.retry_after_s("user99", "198.51.100.1") == 0  # the window slides


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_concurrent_failures_are_never_lost(open_store: OpenStore) -> None:
    one, two = _pair(open_store, Clock(), free_failures=100)
    errors: list[BaseException] = []

    def guess(t: DbLoginThrottle) -> None:
        try:
            for _ in range(10):
                t.failed("op", "198.51.100.7")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=guess, args=(t,)) for t in (one, two, one, two)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    with one.store.db.session() as s:
        b = LoginThrottleRepository(s).backoff("op", ANY_ADDRESS)
        window = LoginThrottleRepository(s).address_window("198.51.100.7", 0.0)
    assert b is not None
    assert b.failures == 40
    assert window.failures == 40


def test_the_database_throttle_is_the_default_with_shared_sessions(store: Store) -> None:
    auth = Authenticator(store, ApiSettings())
    expected = LoginThrottle if store.db.is_sqlite else DbLoginThrottle
    assert type(auth.limiter) is expected
    shared = Authenticator(store, ApiSettings(shared_sessions=True))
    assert isinstance(shared.limiter, DbLoginThrottle)
