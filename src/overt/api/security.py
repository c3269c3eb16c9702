"""Who is calling, and may they: deny by default.

Every route declares the roles it allows with :func:`allow` (which also puts them into the
OpenAPI as ``x-roles``). The app-wide :func:`guard` dependency reads that declaration from the
matched route; a route without one is refused for everybody (fails closed). Callers are
authenticated by a bearer API token (devices, scripts) or by the session cookie (browsers);
unsafe methods on a session need the CSRF synchronizer token (``X-CSRF-Token`` header or the
``csrf_token`` form field).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import anyio
from fastapi import Depends, HTTPException, status
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket

from overt.audit.context import set_token_id
from overt.domain.users import ROLE_PERMISSIONS, Permission, Role, User

ANONYMOUS = "anonymous"
DEVICE = "device"
ALL_ROLES: tuple[str, ...] = (*(r.value for r in Role), DEVICE)
SESSION_COOKIE = "overt_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PASSWORD_CHANGE_ROUTES = frozenset({"/api/v1/me/password", "/api/v1/auth/me", "/api/v1/auth/logout", "/account"})
"""All a user whose password was reset may reach until they change it (public routes aside)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: a user (session or script token) or a device (edge pipeline)."""

    name: str
    role: str
    via: Literal["session", "token"]
    user: User | None = None
    deployment_id: int | None = None
    token_id: int | None = None
    cameras: tuple[str, ...] | None = None  # a device token's camera ids (None: any)

    def can(self, permission: Permission) -> bool:
        return self.user is not None and self.user.can(permission)


def roles_with(*permissions: Permission) -> list[str]:
    return sorted(r.value for r, perms in ROLE_PERMISSIONS.items() if any(p in perms for p in permissions))


def allow(
    *permissions: Permission, roles: tuple[Role, ...] = (), device: bool = False, public: bool = False
) -> dict[str, Any]:
    """Route keyword arguments declaring who may call it, e.g. ``@router.get(p, **allow(Permission.REPORT))``."""
    declared = set(roles_with(*permissions)) | {r.value for r in roles}
    if device:
        declared.add(DEVICE)
    if public:
        declared.add(ANONYMOUS)
    if not declared:
        raise ValueError("a route must allow at least one role")
    return {"openapi_extra": {"x-roles": sorted(declared)}}


F = TypeVar("F", bound=Callable[..., Any])


def ws_allow(*permissions: Permission) -> Callable[[F], F]:
    """The same declaration for a WebSocket endpoint (not part of the OpenAPI)."""

    def deco(fn: F) -> F:
        fn.__overt_roles__ = roles_with(*permissions)  # type: ignore[attr-defined]
        return fn

    return deco


def declared_roles(conn: HTTPConnection) -> list[str] | None:
    route = conn.scope.get("route")
    extra = getattr(route, "openapi_extra", None) or {}
    roles = extra.get("x-roles")
    if roles is None:
        roles = getattr(getattr(route, "endpoint", None), "__overt_roles__", None)
    return None if roles is None else list(roles)


class Denied(HTTPException):
    pass


def _deny(conn: HTTPConnection, code: int, detail: str) -> Exception:
    if isinstance(conn, WebSocket):
        from fastapi import WebSocketException

        return WebSocketException(code=status.WS_1008_POLICY_VIOLATION, reason=detail)
    headers = {"WWW-Authenticate": "Bearer"} if code == status.HTTP_401_UNAUTHORIZED else None
    return Denied(status_code=code, detail=detail, headers=headers)


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


async def guard(conn: HTTPConnection) -> Principal | None:
    """App-wide dependency: authenticate, then allow only the route's declared roles."""
    roles = declared_roles(conn)
    if roles is None:
        raise _deny(conn, status.HTTP_403_FORBIDDEN, "this route declares no roles: denied by default")
    auth = conn.app.state.auth
    # in a worker thread: authentication reads the database, which must never stall the event loop
    principal: Principal | None = await anyio.to_thread.run_sync(auth.authenticate_once, conn)
    conn.state.principal = principal
    set_token_id(None if principal is None else principal.token_id)  # named in every audit entry
    if ANONYMOUS in roles:
        return principal
    if principal is None:
        raise _deny(conn, status.HTTP_401_UNAUTHORIZED, "not logged in")
    if principal.role not in roles:
        raise _deny(conn, status.HTTP_403_FORBIDDEN, f"role {principal.role} may not do this")
    if principal.user is not None and principal.user.must_change_password:
        path = getattr(conn.scope.get("route"), "path", "")
        if path not in PASSWORD_CHANGE_ROUTES:
            raise _deny(conn, status.HTTP_403_FORBIDDEN, "your password was reset: change it first (/account)")
    if principal.via == "session" and conn.scope["type"] == "http" and conn.scope["method"] in UNSAFE_METHODS:
        await auth.check_csrf(conn)
    return principal


async def current_principal(p: Principal | None = Depends(guard)) -> Principal:
    if p is None:  # only on public routes that ask for a principal anyway
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="not logged in")
    return p


def current_user(p: Principal = Depends(current_principal)) -> User:
    if p.user is None:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="a device token cannot do this")
    return p.user
