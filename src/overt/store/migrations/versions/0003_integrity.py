"""Signed evidence: each alert's sealed signed record, and devices' registered signing keys.

Revision ID: 0003_integrity
Revises: 0003_console
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_integrity"
down_revision = "0003_security_chain"  # re-chained at merge
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_evidence",
        sa.Column("alert_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_alert_evidence")),
    )
    op.create_table(
        "device_keys",
        sa.Column("token_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("registered_by", sa.String(length=64), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_device_keys")),
    )


def downgrade() -> None:
    op.drop_table("device_keys")
    op.drop_table("alert_evidence")
