"""Local user accounts, roles and what each role may do (pure; no database)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from overt.errors import AuthError, InputError


class Role(StrEnum):
    ADMIN = "admin"
    AUTHORISING_OFFICER = "authorising_officer"
    WATCHLIST_MANAGER = "watchlist_manager"
    OPERATOR = "operator"
    AUDITOR = "auditor"


class Permission(StrEnum):
    MANAGE_USERS = "manage_users"
    CREATE_DEPLOYMENT = "create_deployment"
    AUTHORISE_DEPLOYMENT = "authorise_deployment"
    RUN_DEPLOYMENT = "run_deployment"
    MANAGE_WATCHLIST = "manage_watchlist"
    VIEW_WATCHLIST = "view_watchlist"
    ADJUDICATE = "adjudicate"
    VIEW_AUDIT = "view_audit"
    REPORT = "report"
    MAINTAIN = "maintain"  # purge, key rotation


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(
        {
            Permission.MANAGE_USERS,
            Permission.CREATE_DEPLOYMENT,
            Permission.RUN_DEPLOYMENT,
            Permission.MANAGE_WATCHLIST,
            Permission.VIEW_WATCHLIST,
            Permission.VIEW_AUDIT,
            Permission.REPORT,
            Permission.MAINTAIN,
        }
    ),
    Role.AUTHORISING_OFFICER: frozenset(
        {
            Permission.CREATE_DEPLOYMENT,
            Permission.AUTHORISE_DEPLOYMENT,
            Permission.RUN_DEPLOYMENT,
            Permission.VIEW_WATCHLIST,
            Permission.REPORT,
        }
    ),
    Role.WATCHLIST_MANAGER: frozenset({Permission.MANAGE_WATCHLIST, Permission.VIEW_WATCHLIST}),
    Role.OPERATOR: frozenset({Permission.CREATE_DEPLOYMENT, Permission.RUN_DEPLOYMENT, Permission.ADJUDICATE}),
    Role.AUDITOR: frozenset({Permission.VIEW_AUDIT, Permission.REPORT, Permission.VIEW_WATCHLIST}),
}
"""Admins manage but cannot authorise deployments: authorisation is an officer's act."""

_NAME = re.compile(r"^[a-z][a-z0-9._-]{1,31}\Z")
# Look-alikes among the characters a name may hold (after NFKC case-folding only ASCII passes the
# pattern, so a small map covers UTS #39's confusables for them): digits that read as letters,
# letter pairs that read as one letter, and the separators, which are easily missed (dropped).
_CONFUSABLE_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))
_CONFUSABLE_CHARS = str.maketrans({"0": "o", "1": "l", "i": "l", "5": "s", "_": None, "-": None, ".": None})


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower().replace("-", "_"))
    except ValueError:
        raise InputError(f"unknown role {value!r}; choose one of: {', '.join(r.value for r in Role)}") from None


def normalise_user_name(name: str) -> str:
    """NFKC case-folded form of a name (what is stored and compared)."""
    return unicodedata.normalize("NFKC", name).casefold()


def validate_user_name(name: str) -> str:
    """The normalised name, or InputError: 2-32 characters, a letter first, then ``a-z 0-9 . _ -``."""
    norm = normalise_user_name(name)
    if not _NAME.match(norm):
        raise InputError(
            "user name must be 2-32 characters: a lower-case letter first, then letters, digits, '.', '_' or '-'"
        )
    return norm


def name_skeleton(name: str) -> str:
    """What a name looks like: two names with the same skeleton are confusable (``officer``/``0fficer``)."""
    s = normalise_user_name(name)
    for pair, one in _CONFUSABLE_PAIRS:
        s = s.replace(pair, one)
    return s.translate(_CONFUSABLE_CHARS)


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: Role
    created_at: datetime
    disabled: bool = False
    must_change_password: bool = False

    def can(self, permission: Permission) -> bool:
        """Never while disabled, nor while a reset password awaits its change."""
        return not self.disabled and not self.must_change_password and permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        if self.must_change_password:
            raise AuthError(f"user {self.name} must change their password first")
        if not self.can(permission):
            raise AuthError(f"user {self.name} (role {self.role.value}) may not {permission.value.replace('_', ' ')}")
