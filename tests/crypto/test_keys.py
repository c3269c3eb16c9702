from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from overt.crypto.keys import EnvKeyStore, FileKeyStore, KdfParams, KeyStore, MemoryKeyStore, PassphraseKeyStore
from overt.errors import CryptoError, InsecureKeyFileError, KeyMissingError

FAST = {"time_cost": 1, "memory_cost_kib": 1024}


def test_file_keystore_created_0600_and_loads(tmp_path: Path) -> None:
    ks = FileKeyStore.create(tmp_path / "kek.key")
    assert (ks.path.stat().st_mode & 0o777) == 0o600
    assert len(ks.load_kek()) == 32
    assert isinstance(ks, KeyStore)
    with pytest.raises(CryptoError, match="refusing to overwrite"):
        FileKeyStore.create(tmp_path / "kek.key")


def test_file_keystore_refuses_group_readable(tmp_path: Path) -> None:
    ks = FileKeyStore.create(tmp_path / "kek.key")
    before = ks.path.read_bytes()
    os.chmod(ks.path, 0o640)
    with pytest.raises(InsecureKeyFileError, match="chmod 600"):
        ks.load_kek()
    assert ks.path.read_bytes() == before  # nothing destroyed


def test_missing_and_garbage_key_file(tmp_path: Path) -> None:
    with pytest.raises(KeyMissingError, match="not found"):
        FileKeyStore(tmp_path / "nope").load_kek()
    p = tmp_path / "bad"
    p.write_text("not base64 !!")
    p.chmod(0o600)
    with pytest.raises(KeyMissingError, match="base64"):
        FileKeyStore(p).load_kek()


def test_env_keystore(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OVERT_TEST_KEK", raising=False)
    ks = EnvKeyStore("OVERT_TEST_KEK")
    with pytest.raises(KeyMissingError, match="not set"):
        ks.load_kek()
    key = os.urandom(32)
    monkeypatch.setenv("OVERT_TEST_KEK", base64.b64encode(key).decode())
    assert ks.load_kek() == key
    monkeypatch.setenv("OVERT_TEST_KEK", base64.b64encode(b"x" * 16).decode())
    with pytest.raises(KeyMissingError, match="16-byte"):
        ks.load_kek()


def test_passphrase_keystore_deterministic_with_recorded_params() -> None:
    params = KdfParams.new(**FAST)
    again = KdfParams.from_json(params.to_json())
    a = PassphraseKeyStore(params, lambda: "correct horse").load_kek()
    b = PassphraseKeyStore(again, lambda: "correct horse").load_kek()
    c = PassphraseKeyStore(params, lambda: "wrong horse").load_kek()
    d = PassphraseKeyStore(KdfParams.new(**FAST), lambda: "correct horse").load_kek()
    assert a == b
    assert len(a) == 32
    assert a != c
    assert a != d
    with pytest.raises(KeyMissingError):
        PassphraseKeyStore(params, lambda: "").load_kek()
    with pytest.raises(CryptoError):
        KdfParams.from_json({"algorithm": "md5"})


def test_memory_keystore_repr_hides_key() -> None:
    ks = MemoryKeyStore()
    assert len(ks.load_kek()) == 32
    assert "key=" not in repr(ks)
