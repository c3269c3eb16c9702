"""Keyed audit chain: a MAC column on every audit entry (existing entries keep NULL).

The first ``Store.open`` after this migration keys the chain: it creates the audit key (a data
key wrapped by the KEK) and, when the log already holds entries, appends a genesis entry
``audit.chain_keyed`` whose MAC covers every earlier entry through its ``prev_hash``.

Revision ID: 0003_security_chain
Revises: 0003_console
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_security_chain"
down_revision = "0003_console"  # chained after what landed first on main
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("mac", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("mac")
