"""Where the key-encryption key (KEK) comes from: a 0600 key file, an env var, or a passphrase.

Every ``KeyStore`` only *reads* the KEK; a missing or unsafe key is a :class:`CryptoError`
and nothing is changed. ``MemoryKeyStore`` is the fake for tests.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from argon2.low_level import Type, hash_secret_raw

from overt.crypto.envelope import KEY_BYTES, new_key
from overt.errors import CryptoError, InsecureKeyFileError, KeyMissingError


@runtime_checkable
class KeyStore(Protocol):
    """Source of the KEK."""

    @property
    def description(self) -> str:
        """Where the key comes from, for messages (never the key itself)."""
        ...

    def load_kek(self) -> bytes:
        """The 32-byte KEK; :class:`KeyMissingError` / :class:`InsecureKeyFileError` otherwise."""
        ...


def encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyMissingError(f"{where} does not hold a base64 key") from None
    if len(key) != KEY_BYTES:
        raise KeyMissingError(f"{where} holds a {len(key)}-byte key, expected {KEY_BYTES}")
    return key


@dataclass(frozen=True, slots=True)
class FileKeyStore:
    """KEK in a file (base64, one line), which must be mode 0600 (no group/other access)."""

    path: Path

    @property
    def description(self) -> str:
        return f"key file {self.path}"

    @classmethod
    def create(cls, path: Path, key: bytes | None = None) -> FileKeyStore:
        """Write a new key file, mode 0600, refusing to overwrite an existing one."""
        key = new_key() if key is None else key
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise CryptoError(f"key file {path} already exists; refusing to overwrite it") from None
        try:
            os.write(fd, (encode_key(key) + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        return cls(path)

    def load_kek(self) -> bytes:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            raise KeyMissingError(f"key file {self.path} not found") from None
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise InsecureKeyFileError(
                f"key file {self.path} is accessible by group/others (mode {stat.S_IMODE(st.st_mode):o}); "
                f"run: chmod 600 {self.path}"
            )
        try:
            text = self.path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyMissingError(f"key file {self.path} cannot be read: {exc}") from None
        return decode_key(text, self.description)


@dataclass(frozen=True, slots=True)
class EnvKeyStore:
    """KEK in an environment variable (base64 of 32 bytes)."""

    var: str = "OVERT_KEK"

    @property
    def description(self) -> str:
        return f"environment variable {self.var}"

    def load_kek(self) -> bytes:
        text = os.environ.get(self.var)
        if not text:
            raise KeyMissingError(f"environment variable {self.var} is not set")
        return decode_key(text, self.description)


@dataclass(frozen=True, slots=True)
class KdfParams:
    """Parameters of the passphrase KDF, stored (not secret) beside the data."""

    algorithm: Literal["argon2id"] = "argon2id"
    salt_b64: str = ""
    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 1

    def __post_init__(self) -> None:
        if self.algorithm != "argon2id":
            raise CryptoError(f"unknown KDF {self.algorithm!r}")
        if self.time_cost < 1 or self.memory_cost_kib < 8 or self.parallelism < 1:
            raise CryptoError("invalid KDF parameters")

    @classmethod
    def new(cls, *, time_cost: int = 3, memory_cost_kib: int = 65536, parallelism: int = 1) -> KdfParams:
        salt = base64.b64encode(os.urandom(16)).decode("ascii")
        return cls("argon2id", salt, time_cost, memory_cost_kib, parallelism)

    def to_json(self) -> dict[str, Any]:
        return {
            "algorithm": self.algorithm,
            "salt_b64": self.salt_b64,
            "time_cost": self.time_cost,
            "memory_cost_kib": self.memory_cost_kib,
            "parallelism": self.parallelism,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> KdfParams:
        try:
            return cls(
                algorithm=doc["algorithm"],
                salt_b64=str(doc["salt_b64"]),
                time_cost=int(doc["time_cost"]),
                memory_cost_kib=int(doc["memory_cost_kib"]),
                parallelism=int(doc["parallelism"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CryptoError(f"invalid KDF parameters: {exc}") from None

    def derive(self, passphrase: str) -> bytes:
        salt = base64.b64decode(self.salt_b64)
        if len(salt) < 16:
            raise CryptoError("KDF salt must be at least 16 bytes")
        return hash_secret_raw(
            passphrase.encode("utf-8"),
            salt,
            time_cost=self.time_cost,
            memory_cost=self.memory_cost_kib,
            parallelism=self.parallelism,
            hash_len=KEY_BYTES,
            type=Type.ID,
        )


def passphrase_from_env(var: str = "OVERT_PASSPHRASE") -> Callable[[], str]:
    def get() -> str:
        value = os.environ.get(var)
        if not value:
            raise KeyMissingError(f"passphrase not given (set {var})")
        return value

    return get


@dataclass(frozen=True, slots=True)
class PassphraseKeyStore:
    """KEK derived from a passphrase with argon2id and the recorded :class:`KdfParams`."""

    params: KdfParams
    passphrase: Callable[[], str] = field(default_factory=passphrase_from_env)

    @property
    def description(self) -> str:
        return "passphrase (argon2id)"

    def load_kek(self) -> bytes:
        secret = self.passphrase()
        if not secret:
            raise KeyMissingError("empty passphrase")
        return self.params.derive(secret)


@dataclass(frozen=True, slots=True)
class MemoryKeyStore:
    """In-memory KEK (tests)."""

    key: bytes = field(default_factory=new_key, repr=False)

    @property
    def description(self) -> str:
        return "in-memory key"

    def load_kek(self) -> bytes:
        if len(self.key) != KEY_BYTES:
            raise KeyMissingError("in-memory key has the wrong size")
        return self.key
