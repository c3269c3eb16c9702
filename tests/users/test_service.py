from __future__ import annotations

import pytest

from overt.domain.users import Permission, Role, parse_role
from overt.errors import AuthError, InputError
from overt.store import Store
from overt.users import UserService, hash_password, verify_password


def test_hash_and_verify() -> None:
    h = hash_password("long enough pass")
    assert h.startswith("$argon2id$")
    assert verify_password(h, "long enough pass")
    assert not verify_password(h, "wrong")
    assert not verify_password("garbage", "x")
    with pytest.raises(InputError, match="at least 12"):
        hash_password("short")


def test_users_roles_and_authentication(store: Store) -> None:
    svc = UserService(store)
    admin = svc.create_first_admin("admin", "admin-password")
    with pytest.raises(AuthError, match="already exists"):
        svc.create_first_admin("other", "admin-password")
    op = svc.add(admin, "op", Role.OPERATOR, "op-pass-phrase")
    with pytest.raises(AuthError, match="may not manage users"):
        svc.add(op, "x", Role.ADMIN, "x-pass-phrase")
    with pytest.raises(InputError, match="user name"):
        svc.add(admin, "Bad Name", Role.OPERATOR, "x-pass-phrase")
    assert svc.authenticate("op", "op-pass-phrase").role is Role.OPERATOR
    for name, pw in (("op", "nope"), ("ghost", "op-pass-phrase")):
        with pytest.raises(AuthError, match="unknown user or wrong password"):
            svc.authenticate(name, pw)
    with store.transaction() as tx:
        assert [e.action for e in tx.audit.entries()].count("auth.failed") == 2
    assert not admin.can(Permission.AUTHORISE_DEPLOYMENT)
    assert parse_role("Authorising-Officer") is Role.AUTHORISING_OFFICER
    with pytest.raises(InputError, match="unknown role"):
        parse_role("king")
