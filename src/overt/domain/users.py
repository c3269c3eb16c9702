"""Local user accounts, roles and what each role may do (pure; no database)."""

from __future__ import annotations

import re
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

_NAME = re.compile(r"^[a-z][a-z0-9_.-]{1,63}$")


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower().replace("-", "_"))
    except ValueError:
        raise InputError(f"unknown role {value!r}; choose one of: {', '.join(r.value for r in Role)}") from None


def validate_user_name(name: str) -> str:
    if not _NAME.match(name):
        raise InputError("user name must be 2-64 characters: lower-case letters, digits, '_', '.', '-'")
    return name


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: Role
    created_at: datetime
    disabled: bool = False

    def can(self, permission: Permission) -> bool:
        return not self.disabled and permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise AuthError(f"user {self.name} (role {self.role.value}) may not {permission.value.replace('_', ' ')}")
