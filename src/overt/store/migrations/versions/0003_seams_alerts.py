"""Alert ids are never reused; an alert's details and pending review go with it.

SQLite: ``alerts`` gets AUTOINCREMENT (a purged alert's id is never handed out again; the
sequence starts above every alert id the audit log has ever named). Both databases:
``alert_details`` and ``alert_reviews`` reference ``alerts`` with ON DELETE CASCADE (rows left
behind by earlier purges are deleted first: they belonged to alerts that no longer exist).

Revision ID: 0003_seams_alerts
Revises: 0003_console
Create Date: 2026-11-29
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0003_seams_alerts"
down_revision = "0003_integrity"  # re-chained at merge
branch_labels = None
depends_on = None

CHILDREN = ("alert_details", "alert_reviews")


def _highest_audited_alert_id(bind: sa.Connection) -> int:
    targets = bind.execute(sa.text("SELECT target FROM audit_log WHERE target LIKE 'alert:%'")).scalars()
    ids = [int(m.group(1)) for t in targets if (m := re.fullmatch(r"alert:(\d+)", t))]
    return max(ids, default=0)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        with op.batch_alter_table("alerts", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
            pass
        floor = max(_highest_audited_alert_id(bind), bind.execute(sa.text("SELECT max(id) FROM alerts")).scalar() or 0)
        bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = 'alerts'"))
        bind.execute(sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('alerts', :seq)"), {"seq": floor})
    for child in CHILDREN:
        bind.execute(sa.text(f"DELETE FROM {child} WHERE alert_id NOT IN (SELECT id FROM alerts)"))  # noqa: S608
        with op.batch_alter_table(child) as b:
            b.create_foreign_key(
                op.f(f"fk_{child}_alert_id_alerts"), "alerts", ["alert_id"], ["id"], ondelete="CASCADE"
            )


def downgrade() -> None:
    for child in CHILDREN:
        with op.batch_alter_table(child) as b:
            b.drop_constraint(op.f(f"fk_{child}_alert_id_alerts"), type_="foreignkey")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("alerts", recreate="always", table_kwargs={"sqlite_autoincrement": False}):
            pass
