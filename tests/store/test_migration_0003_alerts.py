"""Migration 0003_seams_alerts on a database written by 0002: orphans go, ids above anything audited."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text

from overt.store.db import Database


def test_upgrade_drops_orphans_and_never_reuses_an_audited_alert_id(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = db._alembic_config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002_api")
    now = "2026-01-01 00:00:00"
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO deployments (id, state, purpose, legal_basis, place, planned_start, planned_end,"
                " criteria, categories, min_similarity, threshold_justification, notice_confirmed, created_by,"
                " created_at) VALUES (1, 'active', 'p', 'l', 'x', :t, :t, 'c', '[]', 0.5, 'j', 1, 'op', :t)"
            ),
            {"t": now},
        )
        conn.execute(
            text(
                "INSERT INTO alerts (id, deployment_id, camera_id, similarity, raised_at) VALUES (2, 1, 'cam', 0.7, :t)"
            ),
            {"t": now},
        )
        # alert 7 was purged: its details and pending review were left behind (the old bug)
        for alert_id in (2, 7):
            conn.execute(
                text("INSERT INTO alert_details (alert_id, remote_id, details_json) VALUES (:a, :r, '{}')"),
                {"a": alert_id, "r": f"uuid-{alert_id}"},
            )
        conn.execute(
            text(
                "INSERT INTO alert_reviews (alert_id, verdict, engaged, proposed_by, proposed_at)"
                " VALUES (7, 'true_match', 0, 'op', :t)"
            ),
            {"t": now},
        )
        conn.execute(
            text(
                "INSERT INTO audit_log (seq, at, actor, action, target, details_json, prev_hash, hash)"
                " VALUES (1, :t, 'system', 'alert.deleted', 'alert:7', '{}', 'x', 'y')"
            ),
            {"t": now},
        )
    db.migrate()
    assert db.current_revision() == db.head_revision()
    with db.engine.begin() as conn:
        assert conn.execute(text("SELECT alert_id FROM alert_details")).scalars().all() == [2]
        assert conn.execute(text("SELECT count(*) FROM alert_reviews")).scalar() == 0
        conn.execute(
            text("INSERT INTO alerts (deployment_id, camera_id, similarity, raised_at) VALUES (1, 'cam', 0.7, :t)"),
            {"t": now},
        )
        assert conn.execute(text("SELECT max(id) FROM alerts")).scalar() == 8  # never 3..7 again
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1  # switched back on after the migration
        conn.execute(text("DELETE FROM alerts WHERE id = 2"))
        assert conn.execute(text("SELECT count(*) FROM alert_details")).scalar() == 0  # cascaded
    db.dispose()
