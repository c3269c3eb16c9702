"""Authentication for the API: session cookies, API tokens, CSRF, login with rate limiting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import cast

from fastapi import HTTPException, status
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from overt.api.client import client_address
from overt.api.db_sessions import DbSessionStore
from overt.api.security import CSRF_FIELD, CSRF_HEADER, DEVICE, SESSION_COOKIE, Principal, csrf_ok
from overt.api.sessions import Session, SessionStore
from overt.api.settings import ApiSettings
from overt.domain.users import Role, User, normalise_user_name
from overt.errors import AuthError
from overt.store.store import Store
from overt.users.db_throttle import DbLoginThrottle
from overt.users.service import UserService
from overt.users.throttle import LoginThrottle, Throttle
from overt.users.tokens import Resolved, TokenService

PRINCIPAL_KEY = "overt.principal"
"""Where :meth:`Authenticator.authenticate_once` keeps a request's caller (in its ASGI scope)."""


class Authenticator:
    def __init__(self, store: Store, settings: ApiSettings) -> None:
        self.store = store
        self.settings = settings
        self.users = UserService(store)
        self.tokens = TokenService(store)
        self.sessions: SessionStore | DbSessionStore
        if settings.shared_sessions or (settings.shared_sessions is None and not store.db.is_sqlite):
            # in the database: any number of API processes share them (PostgreSQL by default)
            self.sessions = DbSessionStore(
                store,
                idle_timeout_s=settings.session_idle_timeout_s,
                absolute_timeout_s=settings.session_absolute_timeout_s,
            )
        else:  # one process (the single box on SQLite): in memory, a restart logs everyone out
            self.sessions = SessionStore(
                idle_timeout_s=settings.session_idle_timeout_s, absolute_timeout_s=settings.session_absolute_timeout_s
            )
        # login throttling lives where the sessions do: shared sessions mean a shared guessing budget
        make: Callable[..., Throttle] = (
            partial(DbLoginThrottle, store=store) if isinstance(self.sessions, DbSessionStore) else LoginThrottle
        )
        self.limiter = make(
            free_failures=settings.login_free_failures,
            base_s=settings.login_backoff_s,
            max_s=settings.login_backoff_max_s,
            address_max_failures=settings.login_address_max_failures,
            address_window_s=settings.login_address_window_s,
        )

    def address(self, conn: HTTPConnection) -> str:
        """The client's address (X-Forwarded-For believed only from the trusted proxies)."""
        return client_address(conn.scope, self.settings.trusted_proxies)

    # -- who is calling --------------------------------------------------------------------------

    def authenticate(self, conn: HTTPConnection) -> Principal | None:
        """The caller: a Bearer token, else the session cookie, else nobody.

        Other ``Authorization`` schemes (e.g. ``Basic`` added by a proxy) are not ours: ignored.
        """
        scheme, _, secret = conn.headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() == "bearer":
            if not secret.strip():
                raise HTTPException(status.HTTP_401_UNAUTHORIZED, "use 'Authorization: Bearer <token>'")
            return self._token_principal(secret.strip())
        session = self.sessions.get(conn.cookies.get(SESSION_COOKIE))
        if session is None or session.user is None:
            return None
        user = self.users.get(session.user.name)
        if user is None or user.disabled:
            self.sessions.drop(conn.cookies.get(SESSION_COOKIE))
            return None
        return Principal(name=user.name, role=user.role.value, via="session", user=user)

    def authenticate_once(self, conn: HTTPConnection) -> Principal | None:
        """:meth:`authenticate`, once per request: the body-limit middleware and the route guard
        ask the same question of the same request (the answer, or the refusal, is kept in its scope)."""
        if PRINCIPAL_KEY in conn.scope:
            return cast("Principal | None", conn.scope[PRINCIPAL_KEY])
        p = self.authenticate(conn)
        conn.scope[PRINCIPAL_KEY] = p
        return p

    def _token_principal(self, secret: str) -> Principal:
        try:
            resolved = self.tokens.resolve(secret, now=self.store.clock.now())
        except AuthError as exc:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc), {"WWW-Authenticate": "Bearer"}) from None
        return self._principal_for(resolved)

    @staticmethod
    def _principal_for(r: Resolved) -> Principal:
        tok = r.token
        if r.user is None:
            return Principal(
                name=f"device:{tok.name}",
                role=DEVICE,
                via="token",
                deployment_id=tok.deployment_id,
                token_id=tok.id,
                cameras=tok.cameras,
            )
        return Principal(name=r.user.name, role=r.user.role.value, via="token", user=r.user, token_id=tok.id)

    # -- CSRF ------------------------------------------------------------------------------------------

    async def check_csrf(self, conn: HTTPConnection) -> None:
        session = self.sessions.get(conn.cookies.get(SESSION_COOKIE))
        given = conn.headers.get(CSRF_HEADER)
        if given is None and isinstance(conn, Request):
            ctype = conn.headers.get("content-type", "")
            if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
                form = await conn.form()
                value = form.get(CSRF_FIELD)
                given = value if isinstance(value, str) else None
        if session is None or not csrf_ok(session.csrf, given):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token")

    # -- sessions and cookies ---------------------------------------------------------------------------

    def ensure_session(self, request: Request, response: Response) -> Session:
        """The caller's session, or a new anonymous one (for the login form's CSRF token)."""
        s = self.sessions.get(request.cookies.get(SESSION_COOKIE))
        if s is not None:
            return s
        sid, s = self.sessions.new(address=self.address(request))
        self.set_cookie(response, sid)
        return s

    def set_cookie(self, response: Response, sid: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            sid,
            max_age=int(self.settings.session_absolute_timeout_s),
            httponly=True,
            secure=self.settings.secure_cookies,
            samesite="strict",
            path="/",
        )

    def login(self, request: Request, response: Response, name: str, password: str) -> tuple[User, Session]:
        """Check the password (throttled per account and per address), rotate the session, audit."""
        ip = self.address(request)
        account = normalise_user_name(name.strip())[:64]
        wait = self.limiter.retry_after_s(account, ip)
        if wait > 0:
            with self.store.transaction() as tx:
                tx.audit.append(account, "auth.throttled", "", {"source": ip, "retry_after_s": wait})
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"too many failed logins; try again in {wait} s",
                {"Retry-After": str(wait)},
            )
        try:
            user = self.users.authenticate(name, password, source=ip)
        except AuthError:
            self.limiter.failed(account, ip)
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown user or wrong password") from None
        self.limiter.succeeded(account, ip)
        sid, session = self.sessions.rotate(request.cookies.get(SESSION_COOKIE), user)
        self.set_cookie(response, sid)
        with self.store.transaction() as tx:
            tx.audit.append(
                user.name,
                "auth.login",
                f"user:{user.id}",
                {"via": "session", "source": ip, "must_change_password": user.must_change_password},
            )
        return user, session

    def logout(self, request: Request, response: Response, principal: Principal) -> None:
        self.sessions.drop(request.cookies.get(SESSION_COOKIE))
        response.delete_cookie(SESSION_COOKIE, path="/", secure=self.settings.secure_cookies, httponly=True)
        with self.store.transaction() as tx:
            tx.audit.append(principal.name, "auth.logout", "", {"source": self.address(request)})

    def token_lifetime(self, days: int | None) -> timedelta:
        return timedelta(days=days or self.settings.token_default_days)


__all__ = ["Authenticator", "Role"]
