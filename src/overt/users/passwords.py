"""Password policy and hashing: argon2id (argon2-cffi), at least 12 characters, no common password.

The bundled list (``data/common-passwords.txt``) holds common passwords and the base words of
common passwords; a password is refused when it, or its core (leading/trailing digits and
punctuation stripped, "leet" digits read as letters), is on the list, when it is the user's own
name, or when it has fewer than 5 different characters (``aaaaaaaaaaaa``, ``abababababab``).
"""

from __future__ import annotations

import functools
import re
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from overt.errors import InputError

MIN_PASSWORD_LEN = 12
MAX_PASSWORD_LEN = 1024
MIN_DISTINCT_CHARS = 5
_HASHER = PasswordHasher()
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})


@functools.cache
def common_passwords() -> frozenset[str]:
    text = (resources.files("overt.users") / "data" / "common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#"))


def _cores(password: str) -> set[str]:
    low = password.casefold()
    out = {low, _EDGES.sub("", low), low.translate(_LEET)}
    out.add(_EDGES.sub("", low.translate(_LEET)))
    return {c for c in out if c}


def check_password(password: str, *, user_name: str | None = None) -> None:
    """InputError with the reason when the password is too weak (nothing about it is logged)."""
    if len(password) < MIN_PASSWORD_LEN:
        raise InputError(f"password must be at least {MIN_PASSWORD_LEN} characters")
    if len(password) > MAX_PASSWORD_LEN:
        raise InputError(f"password must be at most {MAX_PASSWORD_LEN} characters")
    if len(set(password)) < MIN_DISTINCT_CHARS:
        raise InputError(f"password must have at least {MIN_DISTINCT_CHARS} different characters")
    cores = _cores(password)
    if cores & common_passwords():
        raise InputError("password is too common (it is on the list of common passwords)")
    if user_name is not None and user_name.casefold() in cores:
        raise InputError("password must not be the user name")


def hash_password(password: str, *, user_name: str | None = None) -> str:
    check_password(password, user_name=user_name)
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def dummy_hash() -> str:
    return _dummy()


@functools.cache
def _dummy() -> str:
    return _HASHER.hash("overt-dummy-password")
