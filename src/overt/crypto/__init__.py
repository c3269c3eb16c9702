"""Envelope encryption: a key-encryption key (KEK) wraps per-subject/per-snapshot data keys.

Data keys encrypt rows with AES-256-GCM (96-bit random nonces); the associated data binds each
ciphertext to its table, row id and schema version, so a ciphertext moved to another row fails.
"""

from __future__ import annotations

from overt.crypto.envelope import (
    KEY_BYTES,
    SCHEMA_VERSION,
    Aad,
    kek_fingerprint,
    new_key,
    open_sealed,
    seal,
    unwrap_key,
    wrap_key,
)
from overt.crypto.keys import (
    EnvKeyStore,
    FileKeyStore,
    KdfParams,
    KeyStore,
    MemoryKeyStore,
    PassphraseKeyStore,
)

__all__ = [
    "KEY_BYTES",
    "SCHEMA_VERSION",
    "Aad",
    "EnvKeyStore",
    "FileKeyStore",
    "KdfParams",
    "KeyStore",
    "MemoryKeyStore",
    "PassphraseKeyStore",
    "kek_fingerprint",
    "new_key",
    "open_sealed",
    "seal",
    "unwrap_key",
    "wrap_key",
]
