"""Public notice as a step: when it was published and by whom, the urgent late-start override,
and what the public page shows of the authorised watch list (counts per category, estimate basis).

Revision ID: 0003_public
Revises: 0002_api
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_public"
down_revision = "0002_api"
branch_labels = None
depends_on = None

COLUMNS = (
    ("notice_published_at", sa.DateTime(timezone=True)),
    ("notice_published_by", sa.String(length=64)),
    ("late_start_by", sa.String(length=64)),
    ("late_start_reason", sa.Text()),
    ("estimate_basis", sa.Text()),
    ("category_counts_json", sa.Text()),
)


def upgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        for name, type_ in COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
