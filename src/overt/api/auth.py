"""Authentication for the API: session cookies, API tokens, CSRF, login with rate limiting."""

from __future__ import annotations

from datetime import timedelta

from fastapi import HTTPException, status
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from overt.api.security import CSRF_FIELD, CSRF_HEADER, DEVICE, SESSION_COOKIE, Principal, csrf_ok
from overt.api.sessions import LoginLimiter, Session, SessionStore
from overt.api.settings import ApiSettings
from overt.domain.users import Role, User
from overt.errors import AuthError
from overt.store.repositories import ApiToken, ApiTokenRepository
from overt.store.store import Store
from overt.users.service import UserService


class Authenticator:
    def __init__(self, store: Store, settings: ApiSettings) -> None:
        self.store = store
        self.settings = settings
        self.users = UserService(store)
        self.sessions = SessionStore(
            idle_timeout_s=settings.session_idle_timeout_s, absolute_timeout_s=settings.session_absolute_timeout_s
        )
        self.limiter = LoginLimiter(
            free_failures=settings.login_free_failures,
            base_s=settings.login_backoff_s,
            max_s=settings.login_backoff_max_s,
        )

    # -- who is calling --------------------------------------------------------------------------

    def authenticate(self, conn: HTTPConnection) -> Principal | None:
        header = conn.headers.get("authorization", "")
        if header:
            scheme, _, secret = header.partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                raise HTTPException(status.HTTP_401_UNAUTHORIZED, "use 'Authorization: Bearer <token>'")
            return self._token_principal(secret.strip())
        session = self.sessions.get(conn.cookies.get(SESSION_COOKIE))
        if session is None or session.user is None:
            return None
        user = self._current_user(session.user.name)
        if user is None or user.disabled:
            self.sessions.drop(conn.cookies.get(SESSION_COOKIE))
            return None
        return Principal(name=user.name, role=user.role.value, via="session", user=user)

    def _current_user(self, name: str) -> User | None:
        with self.store.transaction() as tx:
            got = tx.users.get_with_hash(name)
        return None if got is None else got[0]

    def _token_principal(self, secret: str) -> Principal:
        now = self.store.clock.now()
        with self.store.db.session() as s:
            tok = ApiTokenRepository(s).by_secret(secret, now=now)
        if tok is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown API token", {"WWW-Authenticate": "Bearer"})
        if tok.revoked_at is not None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "API token revoked", {"WWW-Authenticate": "Bearer"})
        if now >= tok.expires_at:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "API token expired", {"WWW-Authenticate": "Bearer"})
        return self._principal_for(tok)

    def _principal_for(self, tok: ApiToken) -> Principal:
        if tok.kind == "device":
            return Principal(
                name=f"device:{tok.name}", role=DEVICE, via="token", deployment_id=tok.deployment_id, token_id=tok.id
            )
        user = self._current_user(tok.user_name or "")
        if user is None or user.disabled:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "the token's user is disabled or gone")
        return Principal(name=user.name, role=user.role.value, via="token", user=user, token_id=tok.id)

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
        sid, s = self.sessions.new()
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
        """Check the password (rate-limited per user+address), rotate the session, audit."""
        ip = request.client.host if request.client else "?"
        wait = self.limiter.retry_after_s(name, ip)
        if wait > 0:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"too many failed logins; try again in {wait} s",
                {"Retry-After": str(wait)},
            )
        try:
            user = self.users.authenticate(name, password)
        except AuthError:
            self.limiter.failed(name, ip)
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "unknown user or wrong password") from None
        self.limiter.succeeded(name, ip)
        sid, session = self.sessions.rotate(request.cookies.get(SESSION_COOKIE), user)
        self.set_cookie(response, sid)
        with self.store.transaction() as tx:
            tx.audit.append(user.name, "auth.login", f"user:{user.id}", {"via": "session"})
        return user, session

    def logout(self, request: Request, response: Response, principal: Principal) -> None:
        self.sessions.drop(request.cookies.get(SESSION_COOKIE))
        response.delete_cookie(SESSION_COOKIE, path="/", secure=self.settings.secure_cookies, httponly=True)
        with self.store.transaction() as tx:
            tx.audit.append(principal.name, "auth.logout", "", {})

    def token_lifetime(self, days: int | None) -> timedelta:
        return timedelta(days=days or self.settings.token_default_days)


__all__ = ["Authenticator", "Role"]
