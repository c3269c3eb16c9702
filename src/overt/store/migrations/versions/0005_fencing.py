"""Fencing tokens for leases: an epoch per lease, +1 at each acquisition by a new holder.

Revision ID: 0005_fencing
Revises: 0004_db_throttle
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_fencing"
down_revision = "0004_db_throttle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("leases") as batch:
        batch.add_column(sa.Column("epoch", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("leases") as batch:
        batch.drop_column("epoch")
