"""The keyed chain: MACs, migration of an unkeyed log, anchors and the governance cross-check."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from overt.audit.anchor import Anchor, check_anchor, make_anchor, post_anchor, read_anchor, write_anchor
from overt.audit.crosscheck import governance_problems, verify_all
from overt.audit.log import AUDIT_KEY_META, AuditLog
from overt.crypto.keys import MemoryKeyStore
from overt.domain.clock import FakeClock
from overt.errors import CryptoError, InputError, StorageError
from overt.store import Database, Store
from tests.gov_helpers import add_entry, plan


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "overt.db"


def _open(path: Path, keys: MemoryKeyStore) -> Store:
    return Store(Database(f"sqlite:///{path}"), keys, clock=FakeClock()).open()


def _fill(store: Store, n: int, actor: str = "alice") -> None:
    for i in range(n):
        with store.transaction() as tx:
            tx.audit.append(actor, "report.generated", f"report:{i}", {"n": i})


def _kinds(store: Store) -> list[tuple[int, str]]:
    with store.db.session() as s:
        return [(p.seq, p.kind) for p in AuditLog(s, store.clock).verify().problems]


def _sql(path: Path, *stmts: str) -> None:
    con = sqlite3.connect(path)
    for s in stmts:
        con.execute(s)
    con.commit()
    con.close()


def test_every_entry_and_the_head_carry_a_mac(db_path: Path) -> None:
    store = _open(db_path, MemoryKeyStore())
    _fill(store, 3)
    with store.transaction() as tx:
        entries = tx.audit.entries()
    assert all(e.mac and len(e.mac) == 64 for e in entries)
    assert _kinds(store) == []
    _sql(db_path, "UPDATE audit_log SET mac=NULL WHERE seq=2")
    assert _kinds(store) == [(2, "forged")]


def test_the_mac_key_is_not_the_kek_and_survives_rotation(db_path: Path) -> None:
    keys = MemoryKeyStore()
    store = _open(db_path, keys)
    _fill(store, 2)
    new = MemoryKeyStore()
    store.rotate_kek(new.load_kek(), actor="admin")
    store.db.dispose()
    again = _open(db_path, new)
    assert _kinds(again) == []


def test_an_unkeyed_log_is_keyed_from_a_genesis_entry(db_path: Path) -> None:
    keys = MemoryKeyStore()
    store = _open(db_path, keys)
    _fill(store, 4)
    store.db.dispose()
    # make it look like a log written before keying existed
    _sql(db_path, "UPDATE audit_log SET mac=NULL", f"DELETE FROM meta WHERE key='{AUDIT_KEY_META}'")
    store = _open(db_path, keys)
    with store.transaction() as tx:
        last = tx.audit.entries()[-1]
    assert (last.seq, last.action, last.actor, dict(last.details)) == (
        5,
        "audit.chain_keyed",
        "system",
        {"legacy_entries": 4},
    )
    assert _kinds(store) == []
    # a legacy entry edited afterwards (hashes recomputed up to the genesis) breaks the genesis MAC
    _sql(db_path, "UPDATE audit_log SET actor='mallory' WHERE seq=2")
    assert (2, "edited") in _kinds(store)


def test_a_log_with_macs_but_no_key_record_is_not_rekeyed(db_path: Path) -> None:
    keys = MemoryKeyStore()
    store = _open(db_path, keys)
    _fill(store, 2)
    store.db.dispose()
    _sql(db_path, f"DELETE FROM meta WHERE key='{AUDIT_KEY_META}'")
    store = _open(db_path, keys)
    with pytest.raises(CryptoError, match="audit log's key is not available"):
        _fill(store, 1)
    assert (0, "forged") in _kinds(store)


def test_editing_where_the_keyed_part_starts_is_detected(db_path: Path) -> None:
    store = _open(db_path, MemoryKeyStore())
    _fill(store, 3)
    con = sqlite3.connect(db_path)
    doc = json.loads(con.execute(f"SELECT value FROM meta WHERE key='{AUDIT_KEY_META}'").fetchone()[0])
    con.close()
    doc["from_seq"] = 99
    _sql(db_path, f"UPDATE meta SET value='{json.dumps(doc)}' WHERE key='{AUDIT_KEY_META}'")
    assert _kinds(store) == [(99, "forged")]


def test_anchor_round_trip_and_checks(db_path: Path, tmp_path: Path) -> None:
    store = _open(db_path, MemoryKeyStore())
    with store.db.session() as s, pytest.raises(InputError, match="empty"):
        make_anchor(AuditLog(s, store.clock), store.clock.now())
    _fill(store, 3)
    with store.db.session() as s:
        anchor = make_anchor(AuditLog(s, store.clock), store.clock.now())
    assert anchor.seq == 3
    path = tmp_path / "a" / "anchor.json"
    write_anchor(anchor, path)
    assert read_anchor(path) == anchor
    with pytest.raises(InputError):
        Anchor.from_json({"seq": 0, "hash": "x"})
    with store.db.session() as s:
        assert check_anchor(AuditLog(s, store.clock), anchor) == []
        changed = Anchor(anchor.seq, "0" * 64, anchor.at, anchor.anchored_at)
        assert "rewritten" in check_anchor(AuditLog(s, store.clock), changed)[0].message
    _sql(db_path, "DELETE FROM audit_log WHERE seq=3")
    with store.db.session() as s:
        assert "truncated" in check_anchor(AuditLog(s, store.clock), anchor)[0].message


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, object]]]]:
    got: list[dict[str, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_port}/anchors", got
    server.shutdown()
    server.server_close()


def test_anchor_is_posted_to_a_webhook(webhook: tuple[str, list[dict[str, object]]]) -> None:
    url, got = webhook
    anchor = Anchor(7, "a" * 64, "2026-01-01T00:00:00", "2026-01-01T00:00:01")
    post_anchor(anchor, url)
    assert got == [{"type": "overt.audit_anchor", **anchor.to_json()}]
    with pytest.raises(StorageError):
        post_anchor(anchor, "http://127.0.0.1:1/nothing-listens-here", timeout_s=2)


def _governed(store: Store) -> int:
    from overt.deployments.service import DeploymentService
    from tests.gov_helpers import users

    u = users(store)
    svc = DeploymentService(store)
    d = svc.create(u["op"], plan(datetime(2026, 6, 1, 9, tzinfo=UTC) - timedelta(minutes=1)))
    svc.authorise(u["officer"], d.id)
    eid = add_entry(store, "REF-1", 1)
    with store.transaction() as tx:
        tx.audit.append("wm", "watchlist.entry_added", f"entry:{eid}", {})
    return d.id


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("UPDATE deployments SET authorised_by='officer2'", "authorised_by is 'officer2', the log says 'officer'"),
        ("UPDATE deployments SET created_by='mallory'", "created_by is 'mallory', the log says 'op'"),
        ("UPDATE deployments SET state='closed'", "closed in the table but the log has no deployment.closed"),
        ("UPDATE deployments SET state='active'", "started in the table but the log has no deployment.started"),
        ("UPDATE deployments SET min_similarity=0.01", "threshold is 0.01 in the table, 0.45 in the log"),
        (
            "UPDATE deployments SET authorised_by=NULL, state='draft'",
            "the log records deployment.authorised by 'officer'",
        ),
        ("UPDATE watchlist_entries SET added_by='mallory'", "added_by is 'mallory', the log says 'wm'"),
        ("UPDATE watchlist_entries SET removed_at='2026-01-01 00:00:00'", "removed in the table but the log has no"),
        ("COPY deployment 1 AS 2", "deployment 2: the log has no deployment.created"),
    ],
)
def test_governance_edits_are_cross_checked(db_path: Path, sql: str, message: str) -> None:
    store = Store(Database(f"sqlite:///{db_path}"), MemoryKeyStore(), clock=FakeClock()).open()
    _governed(store)
    with store.db.session() as s:
        assert governance_problems(s, AuditLog(s, store.clock)) == []
    if sql.startswith("COPY"):  # a row inserted behind Overt's back: every column of 1, id 2
        con = sqlite3.connect(db_path)
        cols = [r[1] for r in con.execute("PRAGMA table_info(deployments)") if r[1] != "id"]
        con.close()
        sql = f"INSERT INTO deployments (id, {', '.join(cols)}) SELECT 2, {', '.join(cols)} FROM deployments WHERE id=1"
    _sql(db_path, sql)
    with store.db.session() as s:
        report = verify_all(s, AuditLog(s, store.clock))
    assert not report.ok
    assert [p.kind for p in report.problems] == ["governance"], report.problems
    assert message in report.problems[0].message
