"""The redacted scene frame of each alert, sealed under the alert's data key (the console's card).

Revision ID: 0005_scene
Revises: 0005_liveness (the head of main when this branch was rebased)
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_scene"
down_revision = "0005_liveness"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_scenes",
        sa.Column("alert_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_alert_scenes")),
    )


def downgrade() -> None:
    op.drop_table("alert_scenes")
