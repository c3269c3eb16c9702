"""API tables: hashed API tokens, pending second-person alert reviews, alert quality details.

Revision ID: 0002_api
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_api"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("user_name", sa.String(length=64), nullable=True),
        sa.Column("deployment_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "alert_reviews",
        sa.Column("alert_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("engaged", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=64), nullable=True),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_alert_reviews")),
    )
    op.create_table(
        "alert_details",
        sa.Column("alert_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("remote_id", sa.String(length=64), nullable=True),
        sa.Column("details_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_alert_details")),
        sa.UniqueConstraint("remote_id", name=op.f("uq_alert_details_remote_id")),
    )


def downgrade() -> None:
    op.drop_table("alert_details")
    op.drop_table("alert_reviews")
    op.drop_table("api_tokens")
