"""Ed25519 signatures over canonical JSON: the node's signing key and offline verification.

A node's signing key is a 32-byte Ed25519 seed kept like every other key (a data key wrapped
by the KEK, see :func:`overt.store.evidence.node_signing_key`). Its public key is identified
by :func:`key_fingerprint`, the SHA-256 of the raw 32-byte public key, recorded in the audit
log when the key is created.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from overt.errors import CryptoError

SEED_BYTES: Final = 32
PUBLIC_KEY_BYTES: Final = 32
SIGNATURE_BYTES: Final = 64


def canonical_json(doc: object) -> bytes:
    """One byte string per document: sorted keys, no spaces, ASCII only, no NaN."""
    try:
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise CryptoError(f"record cannot be canonicalised: {exc}") from None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def key_fingerprint(public_key: bytes) -> str:
    """SHA-256 (hex) of a raw Ed25519 public key."""
    if len(public_key) != PUBLIC_KEY_BYTES:
        raise CryptoError(f"an Ed25519 public key has {PUBLIC_KEY_BYTES} bytes, got {len(public_key)}")
    return sha256_hex(public_key)


@dataclass(frozen=True, slots=True)
class SigningKey:
    """An Ed25519 private key from its 32-byte seed (never shown in a repr)."""

    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.seed) != SEED_BYTES:
            raise CryptoError(f"an Ed25519 seed has {SEED_BYTES} bytes")

    @property
    def public_key(self) -> bytes:
        pub = Ed25519PrivateKey.from_private_bytes(self.seed).public_key()
        return pub.public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def fingerprint(self) -> str:
        return key_fingerprint(self.public_key)

    def sign(self, data: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(data)


def verify_signature(public_key: bytes, data: bytes, signature: bytes) -> bool:
    """True when ``signature`` is a valid Ed25519 signature of ``data`` by ``public_key``."""
    if len(public_key) != PUBLIC_KEY_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True
