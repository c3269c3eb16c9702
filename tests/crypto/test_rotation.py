"""Key rotation with other processes using the database: reload, refuse, never wrap under a retired key."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from overt.crypto.envelope import kek_fingerprint
from overt.crypto.keys import FileKeyStore, MemoryKeyStore
from overt.errors import KeyRotatedError, StorageError
from overt.store import Store
from overt.store.datadir import data_dir_lock, init_data_dir, open_data_dir, rotate_data_dir_key
from overt.store.models import DataKeyRow
from tests.store_fixtures import OpenStore


def _keys(store: Store) -> int:
    with store.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(DataKeyRow)) or 0)


def test_a_process_that_cannot_load_the_new_key_refuses_and_writes_nothing(open_store: OpenStore) -> None:
    old = MemoryKeyStore()
    running, rotating = open_store(old), open_store(old)
    rotating.rotate_kek(MemoryKeyStore().load_kek(), actor="admin")
    before = _keys(running)
    with pytest.raises(KeyRotatedError, match="restart with the new key"), running.transaction() as tx:
        tx.vault.create_key("alert")
    assert _keys(running) == before


def test_a_file_keyed_server_reloads_the_rotated_key(tmp_path: Path) -> None:
    data = tmp_path / "d"
    init_data_dir(data).db.dispose()
    server = open_data_dir(data)
    admin = open_data_dir(data)
    for _ in range(2):
        rotate_data_dir_key(admin, data, actor="admin")
        with server.transaction() as tx:
            key_id = tx.vault.create_key("alert")
        current = kek_fingerprint(FileKeyStore(data / "kek.key").load_kek())
        with server.db.session() as s:
            row = s.get(DataKeyRow, key_id)
            assert row is not None
            assert row.kek_id == current
    assert server.kek == admin.kek


def test_reload_between_the_commit_and_the_file_swap(tmp_path: Path) -> None:
    data = tmp_path / "d"
    init_data_dir(data).db.dispose()
    server, admin = open_data_dir(data), open_data_dir(data)
    pending = FileKeyStore.create(data / "kek.key.new")
    admin.rotate_kek(pending.load_kek(), actor="admin")  # then crashed before os.replace
    with server.transaction() as tx:
        tx.vault.create_key("alert")  # reloads from kek.key.new
    assert server.kek == pending.load_kek()
    server.db.dispose()
    open_data_dir(data).db.dispose()  # start-up installs it
    assert not pending.path.exists()
    assert FileKeyStore(data / "kek.key").load_kek() == server.kek


def test_a_failed_rewrap_removes_the_new_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "d"
    store = init_data_dir(data)
    before = (data / "kek.key").read_bytes()

    def boom(new_kek: bytes, *, actor: str) -> int:
        raise StorageError("disk full")

    monkeypatch.setattr(store, "rotate_kek", boom)
    with pytest.raises(StorageError):
        rotate_data_dir_key(store, data, actor="admin")
    assert not (data / "kek.key.new").exists()
    assert (data / "kek.key").read_bytes() == before


def test_the_lock_refuses_a_second_holder(tmp_path: Path) -> None:
    with data_dir_lock(tmp_path), pytest.raises(StorageError, match="locked"), data_dir_lock(tmp_path):
        pass
    with data_dir_lock(tmp_path):  # released
        pass


def test_a_key_wrapped_while_a_rotation_starts_is_rewrapped_too(open_store: OpenStore) -> None:
    """A transaction that wraps a key under the old KEK holds off the rotation until it commits
    (SQLite: the write lock; PostgreSQL: a shared lock on the KEK row), so the rotation sees it."""
    import threading
    import time

    old = MemoryKeyStore()
    server, admin = open_store(old), open_store(old)
    new = MemoryKeyStore().load_kek()
    started = threading.Event()
    result: list[int] = []

    def rotate() -> None:
        started.set()
        result.append(admin.rotate_kek(new, actor="admin"))

    t = threading.Thread(target=rotate)
    with server.transaction() as tx:
        key_id = tx.vault.create_key("alert")  # wrapped under the old KEK, not yet committed
        t.start()
        started.wait()
        time.sleep(0.5)  # the rotation is now waiting for this transaction
        assert not result
    t.join(timeout=60)
    assert result
    with admin.db.session() as s:
        row = s.get(DataKeyRow, key_id)
        assert row is not None
        assert row.kek_id == kek_fingerprint(new)
