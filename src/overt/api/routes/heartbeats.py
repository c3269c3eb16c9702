"""An edge node's camera heartbeats, posted to the centre with its device token."""

from __future__ import annotations

import math

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from overt.api.deps import services
from overt.api.schemas import Id
from overt.api.security import Principal, allow, current_principal
from overt.pipeline.heartbeat import MAX_CAMERA_ID, CameraReport

router = APIRouter(prefix="/api/v1", tags=["alerts"])
MAX_CAMERAS = 64


class CameraBeatIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    camera_id: str = Field(min_length=1, max_length=MAX_CAMERA_ID, pattern=r"^[A-Za-z0-9._:-]+$")
    frames: int = Field(ge=0, le=10**12, description="Frames processed by the camera's current pipeline run.")
    fps: float = Field(ge=0, le=1000, description="Frames processed per second lately.")
    age_s: float = Field(ge=0, le=10**7, description="Seconds since its last processed frame, by the edge's clock.")


class HeartbeatIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    cameras: list[CameraBeatIn] = Field(max_length=MAX_CAMERAS)

    @field_validator("cameras")
    @classmethod
    def _once_each(cls, value: list[CameraBeatIn]) -> list[CameraBeatIn]:
        if len({c.camera_id for c in value}) != len(value):
            raise ValueError("each camera at most once")
        return value


class HeartbeatOut(BaseModel):
    recorded: int = Field(description="Cameras written now (at most one write per camera a second; the rest wait).")


@router.post(
    "/deployments/{deployment_id}/heartbeat", response_model=HeartbeatOut, status_code=202, **allow(device=True)
)
def heartbeat(
    deployment_id: Id, body: HeartbeatIn, request: Request, p: Principal = Depends(current_principal)
) -> HeartbeatOut:
    """An edge node's cameras are processing frames (or were, ``age_s`` ago): every ~2 s, with the
    device token of this deployment (for its cameras only). Idempotent; only while it is active;
    at most one post per token every half second (429 otherwise)."""
    beats = [CameraReport(c.camera_id, c.frames, c.fps, c.age_s) for c in body.cameras]
    done = services(request).liveness.from_device(
        deployment_id, beats, token_id=p.token_id or 0, bound_deployment_id=p.deployment_id, bound_cameras=p.cameras
    )
    if done.retry_after_s > 0:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "heartbeats too frequent",
            {"Retry-After": str(math.ceil(done.retry_after_s))},
        )
    return HeartbeatOut(recorded=done.recorded)
