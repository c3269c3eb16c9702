"""Schemas of the console's own endpoints (pipeline health; alert follow-ups)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from overt.api.schemas import AuditEntryOut
from overt.pipeline.heartbeat import DOWN_AFTER_S, LIVE_WITHIN_S, PipelineHealth


class CameraBeatOut(BaseModel):
    deployment_id: int
    camera_id: str
    last_frame_at_s: float = Field(description="Wall-clock time (epoch seconds) of the last processed frame.")
    age_s: float = Field(description="Seconds since that frame.")
    state: str = Field(description="live, stale or down.")
    frames: int = Field(description="Frames processed by the camera's current pipeline run.")
    fps: float = Field(description="Frames processed per second lately.")
    source: str = Field(description="pipeline (writing to this centre's database) or edge (an edge node's report).")


class PipelineHealthOut(BaseModel):
    state: str = Field(description="live (frames processed now), stale, down, or none (no pipeline reported).")
    live_within_s: float = LIVE_WITHIN_S
    down_after_s: float = DOWN_AFTER_S
    cameras: list[CameraBeatOut]


def health_out(h: PipelineHealth) -> PipelineHealthOut:
    return PipelineHealthOut(
        state=h.state,
        cameras=[
            CameraBeatOut(
                deployment_id=c.deployment_id,
                camera_id=c.camera_id,
                last_frame_at_s=c.last_frame_at_s,
                age_s=c.age_s,
                state=c.state,
                frames=c.frames,
                fps=c.fps,
                source=c.source,
            )
            for c in h.cameras
        ],
    )


class FollowupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["outcome", "correction", "retain"]
    outcome: Literal["engaged", "arrested", "no_action"] | None = None
    verdict: Literal["true_match", "false_match"] | None = None
    reason: str | None = Field(default=None, max_length=500)
    days: int | None = Field(default=None, description="retain: for how many days (the service allows 1 to 1,095).")


class CaseOut(BaseModel):
    alert_id: int
    entry_id: int
    case_ref: str
    reason: str
    category: str


class AuthoriseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=1000, description="The officer's reasons (audit log).")


class ReviewEntryOut(BaseModel):
    id: int
    case_ref: str
    reason: str
    image_source: str
    category: str
    legal_basis: str
    taken_on: date
    review_on: date
    under_18: bool
    added_by: str
    added_at: datetime


class ReviewOut(BaseModel):
    deployment_id: int
    min_similarity: float
    entries: list[ReviewEntryOut]
    overdue_excluded: int = Field(description="Entries in the categories left out because their review is overdue.")
    expected_false_alerts_per_1000: float
    estimate_basis: str


class AuditPageOut(BaseModel):
    entries: list[AuditEntryOut]
    matching: int = Field(description="Entries matching the filters, on every page together.")
    next_before_seq: int | None = Field(description="Pass as before_seq for the next (older) page; null: no more.")
