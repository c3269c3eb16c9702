"""API tokens: a user token acts only as the user who creates it; a device token only ingests.

* **User tokens** are self-service: whoever is logged in mints one for themselves (never for
  anyone else, admins included). A token cannot mint tokens: minting needs a password login.
* **Device tokens** (admins only) are bound to one deployment that exists and is not closed, and
  optionally to its camera ids; the API lets them call nothing but the ingest route (and
  ``/auth/me``), for that deployment and those cameras only.
* A token is revoked by its owner or by an admin. Every token audit entry names the real
  principal; requests made with a token add ``via_token`` to every entry (:mod:`overt.audit.context`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from overt.domain.deployments import DeploymentState
from overt.domain.users import Permission, User, normalise_user_name
from overt.errors import AuthError, GovernanceError, InputError
from overt.store.repositories import ApiToken
from overt.store.repositories.evidence import register_device_key
from overt.store.store import Store


@dataclass(frozen=True, slots=True)
class TokenRequest:
    name: str
    kind: Literal["device", "user"]
    lifetime: timedelta
    deployment_id: int | None = None
    user_name: str | None = None  # for kind=user: must be the creator (or omitted)
    cameras: tuple[str, ...] | None = None  # for kind=device: the camera ids it may post for
    signing_public_key: bytes | None = None  # for kind=device: the edge node's raw Ed25519 public key


@dataclass(frozen=True, slots=True)
class Resolved:
    """Who a presented token speaks for: a user (re-read now) or a device bound to a deployment."""

    token: ApiToken
    user: User | None


class TokenService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def issue(self, actor: User, req: TokenRequest, *, via_token: bool = False) -> tuple[ApiToken, str]:
        """A new token and its secret (shown once)."""
        if actor.disabled:
            raise AuthError("a disabled account cannot mint tokens")
        if via_token:
            raise AuthError("tokens are minted from a logged-in session, not with another token")
        if req.lifetime <= timedelta(0):
            raise InputError("a token's lifetime must be positive")
        with self.store.transaction() as tx:
            now = tx.clock.now()
            if req.kind == "device":
                actor.require(Permission.MANAGE_USERS)
                if req.deployment_id is None or req.user_name is not None:
                    raise InputError("a device token needs deployment_id and no user_name")
                dep = tx.deployments.get(req.deployment_id)
                if dep.state is DeploymentState.CLOSED:
                    raise GovernanceError(f"deployment {dep.id} is closed: no device may post to it")
                user_name = None
            else:
                if req.deployment_id is not None or req.cameras is not None:
                    raise InputError("a user token takes no deployment_id or cameras")
                if req.user_name is not None and normalise_user_name(req.user_name) != actor.name:
                    raise AuthError("a user token acts only as the user who creates it (log in as them to mint one)")
                user_name = actor.name
            tok, secret = tx.tokens.add(
                name=req.name,
                kind=req.kind,
                user_name=user_name,
                deployment_id=req.deployment_id,
                created_by=actor.name,
                now=now,
                expires_at=now + req.lifetime,
                cameras=req.cameras,
            )
            tx.audit.append(
                actor.name,
                "token.created",
                f"token:{tok.id}",
                {
                    "kind": tok.kind,
                    "acts_as": tok.user_name or f"device:{tok.name}",
                    "deployment": tok.deployment_id,
                    "cameras": None if tok.cameras is None else ",".join(tok.cameras),
                    "expires_at": tok.expires_at.isoformat(),
                },
            )
            if req.signing_public_key is not None:
                if req.kind != "device":
                    raise InputError("only a device token has a signing key")
                fp = register_device_key(tx.session, tok.id, req.signing_public_key, by=actor.name, now=now)
                tx.audit.append(actor.name, "device_key.registered", f"token:{tok.id}", {"fingerprint": fp})
            return tok, secret

    def find(self, actor: User) -> list[ApiToken]:
        """Every token for an admin; one's own user tokens for everyone else."""
        with self.store.transaction() as tx:
            toks = tx.tokens.find()
        if actor.can(Permission.MANAGE_USERS):
            return toks
        return [t for t in toks if t.kind == "user" and t.user_name == actor.name]

    def revoke(self, actor: User, token_id: int) -> ApiToken:
        with self.store.transaction() as tx:
            tok = tx.tokens.get(token_id)
            own = tok.kind == "user" and tok.user_name == actor.name
            if not own and not actor.can(Permission.MANAGE_USERS):
                raise AuthError("only the token's owner or an admin may revoke it")
            tok = tx.tokens.revoke(token_id, now=tx.clock.now())
            tx.audit.append(actor.name, "token.revoked", f"token:{tok.id}", {"kind": tok.kind})
            return tok

    def resolve(self, secret: str, *, now: datetime) -> Resolved:
        """The token behind a secret, or AuthError (unknown, revoked, expired, user disabled)."""
        with self.store.transaction() as tx:
            tok = tx.tokens.by_secret(secret, now=now)
            if tok is None:
                raise AuthError("unknown API token")
            if tok.revoked_at is not None:
                raise AuthError("API token revoked")
            if now >= tok.expires_at:
                raise AuthError("API token expired")
            if tok.kind == "device":
                if tok.deployment_id is None:
                    raise AuthError("this device token is not bound to a deployment")
                return Resolved(tok, None)
            got = tx.users.get_with_hash(tok.user_name or "")
        if got is None or got[0].disabled:
            raise AuthError("the token's user is disabled or gone")
        if got[0].must_change_password:
            raise AuthError("the token's user must change their password first")
        return Resolved(tok, got[0])


def check_device_camera(cameras: tuple[str, ...] | None, camera: str) -> None:
    """A device token bound to cameras posts only for them (AuthError otherwise)."""
    if cameras is not None and camera not in cameras:
        raise AuthError(f"this device token may not post for camera {camera!r}")
