"""Create users, authenticate them. Passwords are hashed with argon2id (argon2-cffi)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from overt.domain.users import Permission, Role, User, validate_user_name
from overt.errors import AuthError, InputError
from overt.store.store import Store

_HASHER = PasswordHasher()
MIN_PASSWORD_LEN = 8
_DUMMY_HASH: str | None = None


def _dummy_verify(password: str) -> None:
    """Spend the same time on unknown users as on known ones (no user probing by timing)."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _HASHER.hash("overt-dummy-password")
    verify_password(_DUMMY_HASH, password)


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LEN:
        raise InputError(f"password must be at least {MIN_PASSWORD_LEN} characters")
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


class UserService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def create_first_admin(self, name: str, password: str) -> User:
        validate_user_name(name)
        h = hash_password(password)
        with self.store.transaction() as tx:
            if tx.users.count():
                raise AuthError("the first admin already exists")
            user = tx.users.add(name, Role.ADMIN, h, created_by=None, now=tx.clock.now())
            tx.audit.append(name, "user.created", f"user:{user.id}", {"role": Role.ADMIN.value, "first_admin": True})
            return user

    def add(self, actor: User, name: str, role: Role, password: str) -> User:
        actor.require(Permission.MANAGE_USERS)
        validate_user_name(name)
        h = hash_password(password)
        with self.store.transaction() as tx:
            user = tx.users.add(name, role, h, created_by=actor.name, now=tx.clock.now())
            tx.audit.append(actor.name, "user.created", f"user:{user.id}", {"role": role.value, "name": name})
            return user

    def authenticate(self, name: str, password: str) -> User:
        """The user, if the password is right; one message for every failure (no user probing)."""
        with self.store.transaction() as tx:
            got = tx.users.get_with_hash(name)
            if got is None:
                _dummy_verify(password)
            ok = got is not None and verify_password(got[1], password)
            if got is None or not ok or got[0].disabled:
                tx.audit.append(name if got else "?", "auth.failed", f"user:{got[0].id}" if got else "", {})
                failed = True
            else:
                failed = False
        if failed or got is None:
            raise AuthError("unknown user or wrong password")
        return got[0]

    def find(self, actor: User) -> list[User]:
        actor.require(Permission.MANAGE_USERS)
        with self.store.transaction() as tx:
            return tx.users.find()
