"""Camera heartbeats in the database: every API process sees which cameras are processing frames.

Revision ID: 0005_liveness
Revises: 0005_fencing
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_liveness"
down_revision = "0005_fencing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "camera_heartbeats",
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("first_frame_at_s", sa.Float(), nullable=False),
        sa.Column("last_frame_at_s", sa.Float(), nullable=False),
        sa.Column("reported_at_s", sa.Float(), nullable=False),
        sa.Column("frames", sa.BigInteger(), nullable=False),
        sa.Column("fps", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("deployment_id", "camera_id", name="pk_camera_heartbeats"),
    )


def downgrade() -> None:
    op.drop_table("camera_heartbeats")
