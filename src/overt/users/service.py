"""Accounts: create, authenticate, disable/enable, change role, change or reset a password.

Passwords are hashed with argon2id (:mod:`overt.users.passwords`). Names are NFKC case-folded,
``^[a-z][a-z0-9._-]{1,31}\\Z``, and a name that looks like an existing one (same skeleton,
``officer``/``0fficer``) is refused. Every change is audited; nobody changes their own role or
disables themselves, and the last enabled admin cannot be disabled or demoted (no lock-out).
Disabling a user or resetting their password revokes their API tokens in the same transaction;
the API re-reads the user on every request, so their sessions end at once too.
"""

from __future__ import annotations

from overt.domain.users import (
    Permission,
    Role,
    User,
    name_skeleton,
    normalise_user_name,
    validate_user_name,
)
from overt.errors import AuthError, GovernanceError, InputError, NotFoundError
from overt.store.store import Store, Tx
from overt.users.passwords import MIN_PASSWORD_LEN, dummy_hash, hash_password, verify_password

__all__ = ["MIN_PASSWORD_LEN", "UserService", "hash_password", "verify_password"]


def _refuse_confusable(tx: Tx, name: str) -> None:
    skel = name_skeleton(name)
    for other in tx.users.find():
        if other.name == name:
            raise InputError(f"user {name} already exists")
        if name_skeleton(other.name) == skel:
            raise InputError(f"user name {name!r} is too like an existing user's name ({other.name!r})")


class UserService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def create_first_admin(self, name: str, password: str) -> User:
        name = validate_user_name(name)
        h = hash_password(password, user_name=name)
        with self.store.transaction() as tx:
            if tx.users.count():
                raise AuthError("the first admin already exists")
            user = tx.users.add(name, Role.ADMIN, h, created_by=None, now=tx.clock.now())
            tx.audit.append(name, "user.created", f"user:{user.id}", {"role": Role.ADMIN.value, "first_admin": True})
            return user

    def add(self, actor: User, name: str, role: Role, password: str, *, must_change_password: bool = False) -> User:
        actor.require(Permission.MANAGE_USERS)
        name = validate_user_name(name)
        h = hash_password(password, user_name=name)
        with self.store.transaction() as tx:
            _refuse_confusable(tx, name)
            user = tx.users.add(
                name, role, h, created_by=actor.name, now=tx.clock.now(), must_change_password=must_change_password
            )
            tx.audit.append(
                actor.name,
                "user.created",
                f"user:{user.id}",
                {"role": role.value, "name": name, "must_change_password": must_change_password},
            )
            return user

    def authenticate(self, name: str, password: str, *, source: str | None = None) -> User:
        """The user, if the password is right; one message for every failure (no user probing).

        ``source`` (the client address, for API logins) is recorded in the audit entry.
        """
        extra = {} if source is None else {"source": source}
        name = normalise_user_name(name)
        with self.store.transaction() as tx:
            got = tx.users.get_with_hash(name)
            if got is None:
                verify_password(dummy_hash(), password)
            ok = got is not None and verify_password(got[1], password)
            if got is None or not ok or got[0].disabled:
                reason = "unknown_user" if got is None else ("disabled" if got[0].disabled and ok else "password")
                tx.audit.append(
                    name if got else "?", "auth.failed", f"user:{got[0].id}" if got else "", {**extra, "reason": reason}
                )
                failed = True
            else:
                failed = False
        if failed or got is None:
            raise AuthError("unknown user or wrong password")
        return got[0]

    def get(self, name: str) -> User | None:
        with self.store.transaction() as tx:
            got = tx.users.get_with_hash(name)
        return None if got is None else got[0]

    def find(self, actor: User) -> list[User]:
        actor.require(Permission.MANAGE_USERS)
        with self.store.transaction() as tx:
            return tx.users.find()

    def name_of(self, actor: User, user_id: int) -> str:
        actor.require(Permission.MANAGE_USERS)
        with self.store.transaction() as tx:
            return tx.users.by_id(user_id).name

    # -- lifecycle -----------------------------------------------------------------------------

    def _target(self, tx: Tx, actor: User, name: str, what: str) -> User:
        actor.require(Permission.MANAGE_USERS)
        got = tx.users.get_with_hash(normalise_user_name(name))
        if got is None:
            raise NotFoundError(f"no user {name}")
        if got[0].name == actor.name:
            raise GovernanceError(f"nobody may {what} their own account (ask another admin)")
        return got[0]

    @staticmethod
    def _keep_an_admin(tx: Tx, target: User) -> None:
        if target.role is not Role.ADMIN or target.disabled:
            return
        admins = [u for u in tx.users.find() if u.role is Role.ADMIN and not u.disabled]
        if len(admins) <= 1:
            raise GovernanceError("this is the last enabled admin: nobody could manage accounts")

    def disable(self, actor: User, name: str) -> User:
        """Disable an account: its sessions end at their next request and its tokens are revoked."""
        with self.store.transaction() as tx:
            target = self._target(tx, actor, name, "disable")
            self._keep_an_admin(tx, target)
            user = tx.users.set_disabled(target.name, True)
            revoked = tx.tokens.revoke_for_user(target.name, now=tx.clock.now())
            tx.audit.append(actor.name, "user.disabled", f"user:{user.id}", {"tokens_revoked": revoked})
            return user

    def enable(self, actor: User, name: str) -> User:
        with self.store.transaction() as tx:
            target = self._target(tx, actor, name, "enable")
            user = tx.users.set_disabled(target.name, False)
            tx.audit.append(actor.name, "user.enabled", f"user:{user.id}", {})
            return user

    def set_role(self, actor: User, name: str, role: Role) -> User:
        with self.store.transaction() as tx:
            target = self._target(tx, actor, name, "change the role of")
            if target.role is role:
                return target
            self._keep_an_admin(tx, target)
            user = tx.users.set_role(target.name, role)
            tx.audit.append(
                actor.name, "user.role_changed", f"user:{user.id}", {"from": target.role.value, "to": role.value}
            )
            return user

    def reset_password(self, actor: User, name: str, temporary_password: str) -> User:
        """An admin sets a temporary password; the user must change it at their next login."""
        with self.store.transaction() as tx:
            target = self._target(tx, actor, name, "reset the password of")
            h = hash_password(temporary_password, user_name=target.name)
            tx.users.set_password_hash(target.name, h, must_change=True)
            revoked = tx.tokens.revoke_for_user(target.name, now=tx.clock.now())
            tx.audit.append(actor.name, "user.password_reset", f"user:{target.id}", {"tokens_revoked": revoked})
            got = tx.users.get_with_hash(target.name)
            assert got is not None
            return got[0]

    def change_password(self, name: str, old_password: str, new_password: str) -> User:
        """The user changes their own password (the old one proves it is them)."""
        user = self.authenticate(name, old_password)
        if new_password == old_password:
            raise InputError("the new password must differ from the old one")
        h = hash_password(new_password, user_name=user.name)
        with self.store.transaction() as tx:
            tx.users.set_password_hash(user.name, h, must_change=False)
            tx.audit.append(user.name, "user.password_changed", f"user:{user.id}", {})
            got = tx.users.get_with_hash(user.name)
            assert got is not None
            return got[0]
