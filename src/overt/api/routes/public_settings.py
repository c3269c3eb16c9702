"""The public site's contact, complaints and assessment fields (admin)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from overt.api.deps import services
from overt.api.schemas import PublicSettingsIn, PublicSettingsOut
from overt.api.security import allow, current_user
from overt.domain.users import Permission, User
from overt.errors import ConfigError
from overt.transparency.public import PublicSite, set_public_info

router = APIRouter(prefix="/api/v1/public-settings", tags=["public"])


@router.get("", response_model=PublicSettingsOut, **allow(Permission.MANAGE_USERS))
def get_settings(request: Request) -> PublicSettingsOut:
    svc = services(request)
    info = PublicSite.for_data_dir(svc.store, svc.settings.data_dir).info
    return PublicSettingsOut(**info.model_dump())


@router.put("", response_model=PublicSettingsOut, **allow(Permission.MANAGE_USERS))
def put_settings(body: PublicSettingsIn, request: Request, user: User = Depends(current_user)) -> PublicSettingsOut:
    svc = services(request)
    if svc.settings.data_dir is None:
        raise ConfigError("the public site's settings live in the data directory; this server has none")
    info = set_public_info(svc.store, svc.settings.data_dir, user, **body.model_dump(exclude_unset=True))
    return PublicSettingsOut(**info.model_dump())
