from __future__ import annotations

import itertools
import sqlite3
import threading
from pathlib import Path

import pytest

from overt.audit.log import GENESIS_HASH, AuditLog, canonical_json
from overt.domain.clock import FakeClock
from overt.errors import InputError
from overt.store import Store
from tests.store_fixtures import OpenStore


def _fill(store: Store, n: int) -> None:
    for i in range(n):
        with store.transaction() as tx:
            tx.audit.append("alice", "deployment.created", f"deployment:{i}", {"n": i})


def _verify(store: Store) -> list[tuple[int, str]]:
    with store.db.session() as s:
        report = AuditLog(s, FakeClock()).verify()
    return [(p.seq, p.kind) for p in report.problems]


def test_canonical_json_is_stable() -> None:
    assert canonical_json({"b": 1, "a": [1, "é"]}) == '{"a":[1,"é"],"b":1}'.encode()


def test_chain_appends_and_verifies(store: Store) -> None:
    _fill(store, 5)
    with store.transaction() as tx:
        entries = tx.audit.entries()
        assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
        assert entries[0].prev_hash == GENESIS_HASH
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
        report = tx.audit.verify()
        assert report.ok
        assert report.entries == 5
        with pytest.raises(InputError):
            tx.audit.append("a", "x", "t", {"bad": [1, 2]})  # type: ignore[dict-item]


def test_concurrent_appends_are_serialised(open_store: OpenStore) -> None:
    from overt.crypto.keys import MemoryKeyStore

    keys = MemoryKeyStore()
    stores = [open_store(keys) for _ in range(4)]
    errors: list[BaseException] = []

    def work(s: Store) -> None:
        try:
            _fill(s, 10)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with stores[0].transaction() as tx:
        assert tx.audit.count() == 40
        assert tx.audit.verify().ok


@pytest.fixture
def sqlite_store(tmp_path: Path) -> tuple[Store, Path]:
    from overt.crypto.keys import MemoryKeyStore
    from overt.store import Database

    path = tmp_path / "overt.db"
    store = Store(Database(f"sqlite:///{path}"), MemoryKeyStore(), clock=FakeClock()).open()
    _fill(store, 6)
    store.db.dispose()
    return store, path


def _raw(path: Path, sql: str) -> None:
    con = sqlite3.connect(path)
    try:
        con.executescript(sql)
    finally:
        con.close()


def test_tamper_edit_detected(sqlite_store: tuple[Store, Path]) -> None:
    store, path = sqlite_store
    _raw(path, "UPDATE audit_log SET actor='mallory' WHERE seq=3")
    assert _verify(store) == [(3, "edited")]


def test_tamper_delete_detected(sqlite_store: tuple[Store, Path]) -> None:
    store, path = sqlite_store
    _raw(path, "DELETE FROM audit_log WHERE seq=4")
    assert _verify(store) == [(4, "deleted")]


def test_tamper_delete_last_detected(sqlite_store: tuple[Store, Path]) -> None:
    store, path = sqlite_store
    _raw(path, "DELETE FROM audit_log WHERE seq=6")
    assert _verify(store) == [(6, "truncated")]


def test_tamper_swap_detected(sqlite_store: tuple[Store, Path]) -> None:
    store, path = sqlite_store
    _raw(
        path,
        "UPDATE audit_log SET seq=-1 WHERE seq=2; UPDATE audit_log SET seq=2 WHERE seq=3;"
        "UPDATE audit_log SET seq=3 WHERE seq=-1;",
    )
    problems = _verify(store)
    assert (2, "edited") in problems
    assert (3, "edited") in problems
    assert any(k == "reordered" for _, k in problems)


def test_tamper_rehash_still_detected_by_next_link(sqlite_store: tuple[Store, Path]) -> None:
    """An attacker who edits an entry and recomputes its hash breaks the next entry's link."""
    store, path = sqlite_store
    con = sqlite3.connect(path)
    row = con.execute(
        "SELECT seq, at, actor, action, target, details_json, prev_hash FROM audit_log WHERE seq=2"
    ).fetchone()
    con.close()
    import json

    from overt.audit.log import AuditEntry

    e = AuditEntry(row[0], row[1], "mallory", row[3], row[4], json.loads(row[5]), row[6])
    _raw(path, f"UPDATE audit_log SET actor='mallory', hash='{e.compute_hash()}' WHERE seq=2")
    assert _verify(store) == [(2, "forged"), (3, "reordered")]
