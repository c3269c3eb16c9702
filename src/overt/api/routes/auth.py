"""Login, logout, who am I, CSRF token."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status

from overt.api.auth import Authenticator
from overt.api.schemas import CsrfOut, LoginIn, Me, Problem
from overt.api.security import (
    CSRF_HEADER,
    SESSION_COOKIE,
    Principal,
    allow,
    csrf_ok,
    current_principal,
)
from overt.domain.users import Role

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
EVERYONE = tuple(Role)


def _auth(request: Request) -> Authenticator:
    a = request.app.state.auth
    assert isinstance(a, Authenticator)
    return a


@router.get("/csrf", response_model=CsrfOut, **allow(public=True))
def csrf(request: Request, response: Response) -> CsrfOut:
    """The caller's CSRF token (a new anonymous session when there is none): send it as X-CSRF-Token."""
    response.headers["Cache-Control"] = "no-store"
    return CsrfOut(csrf_token=_auth(request).ensure_session(request, response).csrf)


@router.post(
    "/login",
    response_model=Me,
    responses={401: {"model": Problem}, 403: {"model": Problem}, 429: {"model": Problem}},
    **allow(public=True),
)
def login(body: LoginIn, request: Request, response: Response) -> Me:
    """Log in with a password. Needs the pre-login session's CSRF token; the session id is replaced."""
    auth = _auth(request)
    pre = auth.sessions.get(request.cookies.get(SESSION_COOKIE))
    if pre is None or not csrf_ok(pre.csrf, request.headers.get(CSRF_HEADER)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong CSRF token (GET /api/v1/auth/csrf first)")
    user, session = auth.login(request, response, body.username, body.password)
    response.headers["Cache-Control"] = "no-store"
    return Me(
        name=user.name,
        role=user.role.value,
        via="session",
        csrf_token=session.csrf,
        must_change_password=user.must_change_password,
    )


@router.post("/logout", status_code=204, **allow(roles=EVERYONE))
def logout(request: Request, response: Response, p: Principal = Depends(current_principal)) -> Response:
    _auth(request).logout(request, response, p)
    response.status_code = 204
    return response


@router.get("/me", response_model=Me, **allow(roles=EVERYONE, device=True))
def me(request: Request, response: Response, p: Principal = Depends(current_principal)) -> Me:
    csrf_token = None
    if p.via == "session":
        s = _auth(request).sessions.get(request.cookies.get(SESSION_COOKIE))
        csrf_token = s.csrf if s else None
    response.headers["Cache-Control"] = "no-store"
    must_change = p.user is not None and p.user.must_change_password
    return Me(name=p.name, role=p.role, via=p.via, csrf_token=csrf_token, must_change_password=must_change)
