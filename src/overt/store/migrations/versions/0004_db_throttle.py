"""Login throttling in the database: every API process shares one budget per account and address.

Revision ID: 0004_db_throttle
Revises: 0003_scale_centre
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_db_throttle"
down_revision = "0003_scale_centre"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_backoffs",
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("until_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("account", "address", name="pk_login_backoffs"),
    )
    op.create_index("ix_login_backoffs_until_s", "login_backoffs", ["until_s"])
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_failures"),
    )
    op.create_index("ix_login_failures_address", "login_failures", ["address"])
    op.create_index("ix_login_failures_at_s", "login_failures", ["at_s"])
    op.create_table(
        "login_known",
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("seen_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("account", "address", name="pk_login_known"),
    )
    op.create_index("ix_login_known_seen_s", "login_known", ["seen_s"])


def downgrade() -> None:
    op.drop_index("ix_login_known_seen_s", "login_known")
    op.drop_table("login_known")
    op.drop_index("ix_login_failures_at_s", "login_failures")
    op.drop_index("ix_login_failures_address", "login_failures")
    op.drop_table("login_failures")
    op.drop_index("ix_login_backoffs_until_s", "login_backoffs")
    op.drop_table("login_backoffs")
