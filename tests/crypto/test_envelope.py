from __future__ import annotations

import pytest

from overt.crypto.envelope import Aad, blind_index, kek_fingerprint, new_key, open_sealed, seal, unwrap_key, wrap_key
from overt.errors import CryptoError, DecryptionError


def test_roundtrip_and_random_nonces() -> None:
    key = new_key()
    aad = Aad("watchlist_entries", "7")
    a = seal(key, b"secret bytes", aad)
    b = seal(key, b"secret bytes", aad)
    assert a != b  # fresh 96-bit nonce each time
    assert open_sealed(key, a, aad) == b"secret bytes"
    assert b"secret" not in a


def test_ciphertext_moved_to_another_row_fails() -> None:
    key = new_key()
    blob = seal(key, b"template", Aad("watchlist_entries", "1"))
    with pytest.raises(DecryptionError, match="does not authenticate"):
        open_sealed(key, blob, Aad("watchlist_entries", "2"))
    with pytest.raises(DecryptionError):
        open_sealed(key, blob, Aad("alerts", "1"))
    with pytest.raises(DecryptionError):
        open_sealed(key, blob, Aad("watchlist_entries", "1", schema_version=2))


def test_wrong_key_and_tampering_fail() -> None:
    key = new_key()
    aad = Aad("t", "1")
    blob = seal(key, b"x" * 100, aad)
    with pytest.raises(DecryptionError):
        open_sealed(new_key(), blob, aad)
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(DecryptionError):
        open_sealed(key, tampered, aad)
    with pytest.raises(DecryptionError, match="malformed"):
        open_sealed(key, b"\x02" + blob[1:], aad)
    with pytest.raises(CryptoError, match="32 bytes"):
        seal(b"short", b"x", aad)


def test_wrap_unwrap_bound_to_key_id() -> None:
    kek, dk = new_key(), new_key()
    wrapped = wrap_key(kek, dk, "k1")
    assert unwrap_key(kek, wrapped, "k1") == dk
    with pytest.raises(DecryptionError):
        unwrap_key(kek, wrapped, "k2")


def test_fingerprint_and_blind_index() -> None:
    k = new_key()
    assert kek_fingerprint(k) == kek_fingerprint(k)
    assert kek_fingerprint(k) != kek_fingerprint(new_key())
    assert blind_index(k, " Case-1 ") == blind_index(k, "case-1")
    assert blind_index(k, "case-1") != blind_index(new_key(), "case-1")
