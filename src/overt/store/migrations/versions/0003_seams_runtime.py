"""Runtime seams: longer stop reasons ("failed to start: ..."), sealed watch-list removal reasons.

Revision ID: 0003_seams_runtime
Revises: 0003_public
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_seams_runtime"
down_revision = "0003_public"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployments") as b:
        b.alter_column("stop_reason", existing_type=sa.String(length=64), type_=sa.String(length=500))
    with op.batch_alter_table("watchlist_entries") as b:
        b.add_column(sa.Column("removal_key_id", sa.String(length=32), nullable=True))
        b.add_column(sa.Column("removal_reason_blob", sa.LargeBinary(), nullable=True))
        b.create_foreign_key(
            op.f("fk_watchlist_entries_removal_key_id_data_keys"), "data_keys", ["removal_key_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("watchlist_entries") as b:
        b.drop_constraint(op.f("fk_watchlist_entries_removal_key_id_data_keys"), type_="foreignkey")
        b.drop_column("removal_reason_blob")
        b.drop_column("removal_key_id")
    with op.batch_alter_table("deployments") as b:
        b.alter_column("stop_reason", existing_type=sa.String(length=500), type_=sa.String(length=64))
