"""Users and API tokens (admins)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from overt.api.auth import Authenticator
from overt.api.schemas import Id, TokenCreated, TokenIn, TokenOut, UserIn, UserOut
from overt.api.security import allow, current_user
from overt.audit.log import AuditLog
from overt.domain.users import Permission, User, parse_role
from overt.errors import InputError
from overt.store.repositories import ApiToken, ApiTokenRepository, DeploymentRepository, UserRepository
from overt.store.repositories.evidence import decode_public_key, register_device_key

router = APIRouter(prefix="/api/v1", tags=["admin"])
MANAGE = allow(Permission.MANAGE_USERS)


def _auth(request: Request) -> Authenticator:
    a = request.app.state.auth
    assert isinstance(a, Authenticator)
    return a


@router.get("/users", response_model=list[UserOut], **MANAGE)
def list_users(request: Request, user: User = Depends(current_user)) -> list[UserOut]:
    return [
        UserOut(id=u.id, name=u.name, role=u.role.value, created_at=u.created_at, disabled=u.disabled)
        for u in _auth(request).users.find(user)
    ]


@router.post("/users", response_model=UserOut, status_code=201, **MANAGE)
def add_user(body: UserIn, request: Request, user: User = Depends(current_user)) -> UserOut:
    u = _auth(request).users.add(user, body.name, parse_role(body.role), body.password)
    return UserOut(id=u.id, name=u.name, role=u.role.value, created_at=u.created_at, disabled=u.disabled)


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
    }


@router.get("/tokens", response_model=list[TokenOut], **MANAGE)
def list_tokens(request: Request, user: User = Depends(current_user)) -> list[TokenOut]:
    with _auth(request).store.db.session() as s:
        return [TokenOut.model_validate(_out(t)) for t in ApiTokenRepository(s).find()]


@router.post("/tokens", response_model=TokenCreated, status_code=201, **MANAGE)
def create_token(body: TokenIn, request: Request, user: User = Depends(current_user)) -> TokenCreated:
    """A device token (posts alerts for one deployment) or a script token (acts as a user)."""
    auth = _auth(request)
    store = auth.store
    now = store.clock.now()
    with store.db.session() as s:
        if body.kind == "device":
            if body.deployment_id is None or body.user_name is not None:
                raise InputError("a device token needs deployment_id and no user_name")
            DeploymentRepository(s).get(body.deployment_id)
        else:
            if body.user_name is None or body.deployment_id is not None:
                raise InputError("a user token needs user_name and no deployment_id")
            if UserRepository(s).get_with_hash(body.user_name) is None:
                raise InputError(f"no user {body.user_name}")
        tok, secret = ApiTokenRepository(s).add(
            name=body.name,
            kind=body.kind,
            user_name=body.user_name,
            deployment_id=body.deployment_id,
            created_by=user.name,
            now=now,
            expires_at=now + auth.token_lifetime(body.days),
        )
        AuditLog(s, store.clock).append(
            user.name,
            "token.created",
            f"token:{tok.id}",
            {"kind": tok.kind, "deployment": tok.deployment_id, "expires_at": tok.expires_at.isoformat()},
        )
        if body.signing_public_key_b64 is not None:
            if body.kind != "device":
                raise InputError("only a device token has a signing key")
            fp = register_device_key(s, tok.id, decode_public_key(body.signing_public_key_b64), by=user.name, now=now)
            AuditLog(s, store.clock).append(user.name, "device_key.registered", f"token:{tok.id}", {"fingerprint": fp})
    return TokenCreated.model_validate({**_out(tok), "token": secret})


@router.delete("/tokens/{token_id}", response_model=TokenOut, **MANAGE)
def revoke_token(token_id: Id, request: Request, user: User = Depends(current_user)) -> TokenOut:
    store = _auth(request).store
    with store.db.session() as s:
        tok = ApiTokenRepository(s).revoke(token_id, now=store.clock.now())
        AuditLog(s, store.clock).append(user.name, "token.revoked", f"token:{tok.id}", {})
    return TokenOut.model_validate(_out(tok))
