"""Accounts lifecycle (a user may be asked to change their password at next login) and device
tokens bound to their deployment's cameras.

Revision ID: 0003_security_api
Revises: 0003_console
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_security_api"
down_revision = "0003_seams_alerts"  # re-chained at merge
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.text("false"))
        )
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("cameras_json", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("cameras_json")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("must_change_password")
