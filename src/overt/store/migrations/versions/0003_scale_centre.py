"""Scale the centre out on PostgreSQL: leases (one worker per deployment), shared console
sessions, and a NOTIFY on every new alert (PostgreSQL only) so each API
process pushes it to its own WebSocket clients.

Revision ID: 0003_scale_centre
Revises: 0003_security_api
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_scale_centre"
down_revision = "0003_security_api"
branch_labels = None
depends_on = None

CHANNEL = "overt_alerts"  # overt.api.pg_notifier.CHANNEL


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("expires_s", sa.Float(), nullable=False),
        sa.Column("acquired_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_leases"),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("user_name", sa.String(64), nullable=True),
        sa.Column("created_s", sa.Float(), nullable=False),
        sa.Column("last_seen_s", sa.Float(), nullable=False),
        sa.Column("data_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name="pk_web_sessions"),
    )
    op.create_index("ix_web_sessions_user_name", "web_sessions", ["user_name"])
    op.create_index("ix_web_sessions_last_seen_s", "web_sessions", ["last_seen_s"])
    if op.get_bind().dialect.name == "postgresql":
        # delivered at commit, to every listening API process; the payload is the alert id only
        op.execute(
            "CREATE FUNCTION overt_alert_notify() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN PERFORM pg_notify('{CHANNEL}', 'alert:' || NEW.id::text); RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER overt_alert_notify AFTER INSERT ON alerts "
            "FOR EACH ROW EXECUTE FUNCTION overt_alert_notify()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS overt_alert_notify ON alerts")
        op.execute("DROP FUNCTION IF EXISTS overt_alert_notify()")
    op.drop_index("ix_web_sessions_last_seen_s", "web_sessions")
    op.drop_index("ix_web_sessions_user_name", "web_sessions")
    op.drop_table("web_sessions")
    op.drop_table("leases")
