"""AES-256-GCM sealing with associated data, and data-key wrapping under the KEK.

Sealed format: ``b"\\x01" || nonce (12 bytes) || ciphertext || tag (16 bytes)``. The leading
byte is the format version. Associated data is the canonical JSON of
``{"table": ..., "row": ..., "v": schema_version}``: it is authenticated, not stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from overt.errors import CryptoError, DecryptionError

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
FORMAT_V1 = b"\x01"
SCHEMA_VERSION = 1
"""Version of the row layouts bound into the associated data; bump when a payload changes."""


@dataclass(frozen=True, slots=True)
class Aad:
    """Associated data: where a ciphertext belongs. Decrypting it anywhere else fails."""

    table: str
    row_id: str
    schema_version: int = SCHEMA_VERSION

    def encode(self) -> bytes:
        doc = {"table": self.table, "row": str(self.row_id), "v": int(self.schema_version)}
        return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("utf-8")


def new_key() -> bytes:
    """A fresh random 256-bit key."""
    return os.urandom(KEY_BYTES)


def _check_key(key: bytes) -> None:
    if len(key) != KEY_BYTES:
        raise CryptoError(f"key must be {KEY_BYTES} bytes, got {len(key)}")


def seal(key: bytes, plaintext: bytes, aad: Aad) -> bytes:
    """Encrypt and authenticate ``plaintext`` for the row ``aad``."""
    _check_key(key)
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT_V1 + nonce + AESGCM(key).encrypt(nonce, plaintext, aad.encode())


def open_sealed(key: bytes, blob: bytes, aad: Aad) -> bytes:
    """Decrypt a sealed blob; :class:`DecryptionError` if the key, row or bytes are wrong."""
    _check_key(key)
    if len(blob) < 1 + NONCE_BYTES + TAG_BYTES or blob[:1] != FORMAT_V1:
        raise DecryptionError(f"ciphertext for {aad.table} row {aad.row_id} is malformed")
    nonce, body = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, aad.encode())
    except InvalidTag:
        raise DecryptionError(
            f"ciphertext for {aad.table} row {aad.row_id} does not authenticate "
            "(wrong key, moved from another row, or tampered)"
        ) from None


def wrap_key(kek: bytes, data_key: bytes, key_id: str) -> bytes:
    """Wrap a data key under the KEK, bound to its ``data_keys`` row."""
    _check_key(data_key)
    return seal(kek, data_key, Aad("data_keys", key_id))


def unwrap_key(kek: bytes, wrapped: bytes, key_id: str) -> bytes:
    key = open_sealed(kek, wrapped, Aad("data_keys", key_id))
    _check_key(key)
    return key


def kek_fingerprint(kek: bytes) -> str:
    """A public id of a KEK (HMAC, reveals nothing about it): detects a wrong key before use."""
    _check_key(kek)
    return hmac.new(kek, b"overt kek fingerprint v1", hashlib.sha256).hexdigest()[:24]


def blind_index(index_key: bytes, value: str) -> str:
    """Keyed hash of a value (e.g. a subject reference) to test equality without storing it."""
    _check_key(index_key)
    return hmac.new(index_key, value.strip().casefold().encode("utf-8"), hashlib.sha256).hexdigest()
