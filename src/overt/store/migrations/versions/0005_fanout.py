"""Anonymous (pre-login) sessions capped per client address in the database too.

The address is kept only as a keyed digest (HMAC-SHA256 under a key derived from the KEK): enough
to count one address's anonymous sessions, not a list of the addresses that opened the login page.

Revision ID: 0005_fanout
Revises: 0005_scene
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_fanout"
down_revision = "0005_scene"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("web_sessions", sa.Column("address_key", sa.String(64), nullable=True))
    op.create_index("ix_web_sessions_address_key", "web_sessions", ["address_key"])


def downgrade() -> None:
    op.drop_index("ix_web_sessions_address_key", "web_sessions")
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_column("address_key")
