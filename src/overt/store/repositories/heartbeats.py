"""Camera heartbeats shared by every process: one row per (deployment, camera), upserted.

A report carries the age of the camera's last processed frame; the row stores the database's
clock minus that age (never a time in the future), so hosts with skewed clocks agree, as for
leases. ``INSERT .. ON CONFLICT DO UPDATE`` on PostgreSQL and SQLite alike; the last frame time
never goes backwards (a late or repeated report changes nothing but the counters).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from overt.store.models import CameraHeartbeatRow, DeploymentRow
from overt.store.repositories.leases import LeaseRepository


@dataclass(frozen=True, slots=True)
class BeatIn:
    camera_id: str
    age_s: float
    frames: int
    fps: float


@dataclass(frozen=True, slots=True)
class StoredBeat:
    deployment_id: int
    camera_id: str
    last_frame_at_s: float
    frames: int
    fps: float
    source: str


class HeartbeatRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    def now_s(self) -> float:
        """The database's wall clock in epoch seconds."""
        return LeaseRepository(self.s).now_s()

    def record(self, deployment_id: int, source: str, beats: Sequence[BeatIn]) -> None:
        if not beats:
            return
        now = self.now_s()
        dialect = self.s.get_bind().dialect.name
        t = CameraHeartbeatRow
        rows = []
        for b in beats:
            last = now - max(0.0, b.age_s)
            rows.append(
                {
                    "deployment_id": deployment_id,
                    "camera_id": b.camera_id,
                    "source": source,
                    "first_frame_at_s": last,
                    "last_frame_at_s": last,
                    "reported_at_s": now,
                    "frames": b.frames,
                    "fps": b.fps,
                }
            )
        ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(t).values(rows)  # one statement
        new = ins.excluded
        self.s.connection().execute(
            ins.on_conflict_do_update(
                index_elements=["deployment_id", "camera_id"],
                set_={
                    "last_frame_at_s": case(
                        (new.last_frame_at_s > t.last_frame_at_s, new.last_frame_at_s), else_=t.last_frame_at_s
                    ),
                    "reported_at_s": new.reported_at_s,
                    "frames": new.frames,
                    "fps": new.fps,
                    "source": new.source,
                },
            )
        )

    def active(self, deployment_id: int | None = None) -> tuple[float, list[StoredBeat]]:
        """The database's clock now and the beats of every active deployment (or of one)."""
        now = self.now_s()
        q = (
            select(CameraHeartbeatRow)
            .join(DeploymentRow, DeploymentRow.id == CameraHeartbeatRow.deployment_id)
            .where(DeploymentRow.state == "active")
        )
        if deployment_id is not None:
            q = q.where(CameraHeartbeatRow.deployment_id == deployment_id)
        rows = [
            StoredBeat(r.deployment_id, r.camera_id, r.last_frame_at_s, r.frames, r.fps, r.source)
            for r in self.s.scalars(q)
        ]
        return now, rows
