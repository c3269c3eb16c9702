"""Users and API tokens: account lifecycle (admins), tokens (self-service; device tokens: admins)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from overt.api.account_schemas import PasswordChangeIn, PasswordResetIn, RoleIn
from overt.api.auth import Authenticator
from overt.api.schemas import Id, Me, TokenCreated, TokenIn, TokenOut, UserIn, UserOut
from overt.api.security import Principal, allow, current_principal, current_user
from overt.domain.users import Permission, Role, User, parse_role
from overt.errors import AuthError
from overt.store.repositories import ApiToken
from overt.store.repositories.evidence import decode_public_key
from overt.users.tokens import TokenRequest

router = APIRouter(prefix="/api/v1", tags=["admin"])
MANAGE = allow(Permission.MANAGE_USERS)
EVERYONE = allow(roles=tuple(Role))


def _auth(request: Request) -> Authenticator:
    a = request.app.state.auth
    assert isinstance(a, Authenticator)
    return a


def _user_out(u: User) -> UserOut:
    return UserOut(
        id=u.id,
        name=u.name,
        role=u.role.value,
        created_at=u.created_at,
        disabled=u.disabled,
        must_change_password=u.must_change_password,
    )


@router.get("/users", response_model=list[UserOut], **MANAGE)
def list_users(request: Request, user: User = Depends(current_user)) -> list[UserOut]:
    return [_user_out(u) for u in _auth(request).users.find(user)]


@router.post("/users", response_model=UserOut, status_code=201, **MANAGE)
def add_user(body: UserIn, request: Request, user: User = Depends(current_user)) -> UserOut:
    u = _auth(request).users.add(
        user, body.name, parse_role(body.role), body.password, must_change_password=body.must_change_password
    )
    return _user_out(u)


@router.post("/users/{user_id}/disable", response_model=UserOut, **MANAGE)
def disable_user(user_id: Id, request: Request, user: User = Depends(current_user)) -> UserOut:
    """Disable an account: its sessions end now and its tokens are revoked (audited)."""
    auth = _auth(request)
    u = auth.users.disable(user, auth.users.name_of(user, user_id))
    auth.sessions.drop_user(u.name)
    return _user_out(u)


@router.post("/users/{user_id}/enable", response_model=UserOut, **MANAGE)
def enable_user(user_id: Id, request: Request, user: User = Depends(current_user)) -> UserOut:
    auth = _auth(request)
    return _user_out(auth.users.enable(user, auth.users.name_of(user, user_id)))


@router.post("/users/{user_id}/role", response_model=UserOut, **MANAGE)
def set_role(user_id: Id, body: RoleIn, request: Request, user: User = Depends(current_user)) -> UserOut:
    """Change another user's role (never one's own; audited)."""
    auth = _auth(request)
    u = auth.users.set_role(user, auth.users.name_of(user, user_id), parse_role(body.role))
    auth.sessions.drop_user(u.name)
    return _user_out(u)


@router.post("/users/{user_id}/password-reset", response_model=UserOut, **MANAGE)
def reset_password(user_id: Id, body: PasswordResetIn, request: Request, user: User = Depends(current_user)) -> UserOut:
    """Set a temporary password; the user must change it at next login (sessions end, tokens revoked)."""
    auth = _auth(request)
    u = auth.users.reset_password(user, auth.users.name_of(user, user_id), body.temporary_password)
    auth.sessions.drop_user(u.name)
    return _user_out(u)


@router.post("/me/password", response_model=Me, **EVERYONE)
def change_password(
    body: PasswordChangeIn, request: Request, response: Response, p: Principal = Depends(current_principal)
) -> Me:
    """Change one's own password (the old one proves it is you). Every other session of yours ends;
    this one is replaced (new id and CSRF token)."""
    auth = _auth(request)
    if p.user is None or p.via != "session":
        raise AuthError("change your password from a logged-in session")
    user = auth.users.change_password(p.user.name, body.old_password, body.new_password)
    auth.sessions.drop_user(user.name)
    sid, session = auth.sessions.new(user)
    auth.set_cookie(response, sid)
    response.headers["Cache-Control"] = "no-store"
    return Me(name=user.name, role=user.role.value, via="session", csrf_token=session.csrf)


def _out(t: ApiToken) -> dict[str, object]:
    return {
        "id": t.id,
        "name": t.name,
        "kind": t.kind,
        "user_name": t.user_name,
        "deployment_id": t.deployment_id,
        "created_by": t.created_by,
        "created_at": t.created_at,
        "expires_at": t.expires_at,
        "revoked_at": t.revoked_at,
        "last_used_at": t.last_used_at,
        "cameras": None if t.cameras is None else list(t.cameras),
    }


@router.get("/tokens", response_model=list[TokenOut], **EVERYONE)
def list_tokens(request: Request, user: User = Depends(current_user)) -> list[TokenOut]:
    """Every token (admins) or one's own user tokens."""
    return [TokenOut.model_validate(_out(t)) for t in _auth(request).tokens.find(user)]


@router.post("/tokens", response_model=TokenCreated, status_code=201, **EVERYONE)
def create_token(body: TokenIn, request: Request, p: Principal = Depends(current_principal)) -> TokenCreated:
    """A user token acting as its creator (anyone logged in, for themselves only) or a device token
    bound to one deployment (admins; it can only ingest). Minting needs a session, not a token."""
    auth = _auth(request)
    if p.user is None:
        raise AuthError("a device token cannot mint tokens")
    req = TokenRequest(
        name=body.name,
        kind=body.kind,
        lifetime=auth.token_lifetime(body.days),
        deployment_id=body.deployment_id,
        user_name=body.user_name,
        cameras=None if body.cameras is None else tuple(body.cameras),
        signing_public_key=None
        if body.signing_public_key_b64 is None
        else decode_public_key(body.signing_public_key_b64),
    )
    tok, secret = auth.tokens.issue(p.user, req, via_token=p.via == "token")
    return TokenCreated.model_validate({**_out(tok), "token": secret})


@router.delete("/tokens/{token_id}", response_model=TokenOut, **EVERYONE)
def revoke_token(token_id: Id, request: Request, user: User = Depends(current_user)) -> TokenOut:
    """Revoke a token: one's own, or any (admins)."""
    return TokenOut.model_validate(_out(_auth(request).tokens.revoke(user, token_id)))
