"""Attack 5 (issue 10): someone with write access to the database rewrites the audit log.

As tried: on a data directory in use, with ``sqlite3`` on ``overt.db`` (no key): truncate the tail
and fix the recorded head; edit an entry and recompute every hash after it; delete an entry and
renumber the rest; edit ``deployments.authorised_by``. Each must now make ``overt audit verify``
fail (exit 9) and name the problem. A replayed older head (a restored backup of the meta row)
is caught by a published anchor.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from overt.audit.log import GENESIS_HASH, AuditEntry
from overt.cli.app import main
from overt.deployments.service import DeploymentService
from overt.store.datadir import init_data_dir
from tests.gov_helpers import plan, publish_late, users


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    store = init_data_dir(d)
    u = users(store)
    svc = DeploymentService(store)
    dep = svc.create(u["op"], plan(store.clock.now() - timedelta(minutes=5)))
    svc.authorise(u["officer"], dep.id)
    publish_late(svc, u, dep.id)
    svc.start(u["op"], dep.id)
    svc.stop(u["op"], dep.id)
    store.db.dispose()
    return d


def _sql(d: Path, *statements: str) -> None:
    con = sqlite3.connect(d / "overt.db")
    try:
        for s in statements:
            con.execute(s)
        con.commit()
    finally:
        con.close()


def _rows(d: Path) -> list[tuple[int, str, str, str, str, str, str]]:
    con = sqlite3.connect(d / "overt.db")
    try:
        q = "SELECT seq, at, actor, action, target, details_json, prev_hash FROM audit_log ORDER BY seq"
        return list(con.execute(q))
    finally:
        con.close()


def _rechain(d: Path, rows: list[tuple[int, str, str, str, str, str, str]]) -> None:
    """What the attacker does without the key: rewrite every row with recomputed hashes and the head."""
    prev = GENESIS_HASH
    stmts = ["DELETE FROM audit_log"]
    last = (0, prev)
    for seq, at, actor, action, target, details, _ in rows:
        e = AuditEntry(seq, at, actor, action, target, json.loads(details), prev)
        h = e.compute_hash()
        stmts.append(
            "INSERT INTO audit_log (seq, at, actor, action, target, details_json, prev_hash, hash) VALUES "
            f"({seq}, '{at}', '{actor}', '{action}', '{target}', '{details}', '{prev}', '{h}')"
        )
        prev, last = h, (seq, h)
    stmts.append(f"""UPDATE meta SET value='{{"seq": {last[0]}, "hash": "{last[1]}"}}' WHERE key='audit_head'""")
    _sql(d, *stmts)


def _verify(capsys: pytest.CaptureFixture[str], d: Path, *extra: str) -> tuple[int, list[dict[str, object]]]:
    capsys.readouterr()
    rc = main(["audit", "verify", "--data-dir", str(d), "--json", *extra])
    out = capsys.readouterr().out
    return rc, list(json.loads(out)["problems"])


def test_untouched_log_verifies(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    assert _verify(capsys, data_dir) == (0, [])


def test_truncate_the_tail_and_fix_the_head_is_detected(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    rows = _rows(data_dir)
    last_kept = rows[-3]
    con = sqlite3.connect(data_dir / "overt.db")
    (kept_hash,) = con.execute("SELECT hash FROM audit_log WHERE seq=?", (last_kept[0],)).fetchone()
    con.close()
    _sql(
        data_dir,
        f"DELETE FROM audit_log WHERE seq > {last_kept[0]}",
        f"""UPDATE meta SET value='{{"seq": {last_kept[0]}, "hash": "{kept_hash}"}}' WHERE key='audit_head'""",
    )
    rc, problems = _verify(capsys, data_dir)
    assert rc == 9
    assert any(p["kind"] == "truncated" for p in problems)


def test_edit_and_recompute_is_detected(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    rows = _rows(data_dir)
    rows = [(r[0], r[1], "mallory" if r[3] == "deployment.authorised" else r[2], *r[3:]) for r in rows]
    _rechain(data_dir, rows)
    rc, problems = _verify(capsys, data_dir)
    assert rc == 9
    assert {p["kind"] for p in problems} >= {"forged"}


def test_delete_and_renumber_is_detected(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    rows = _rows(data_dir)
    rows = [r for r in rows if r[3] != "deployment.started"]
    rows = [(i + 1, *r[1:]) for i, r in enumerate(rows)]
    _rechain(data_dir, rows)
    rc, problems = _verify(capsys, data_dir)
    assert rc == 9
    assert any(p["kind"] == "forged" for p in problems)


def test_editing_authorised_by_is_detected(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    _sql(data_dir, "UPDATE deployments SET authorised_by='officer2' WHERE id=1")
    rc, problems = _verify(capsys, data_dir)
    assert rc == 9
    assert [p["kind"] for p in problems] == ["governance"]
    assert "authorised_by is 'officer2', the log says 'officer'" in str(problems[0]["message"])


def test_a_replayed_older_head_is_caught_by_the_anchor(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
) -> None:
    """The attacker restores the log and head of an older backup (all MACs valid): only an
    anchor published outside the database shows that entries were removed."""
    con = sqlite3.connect(data_dir / "overt.db")
    backup_head = con.execute("SELECT value FROM meta WHERE key='audit_head'").fetchone()[0]
    backup_seq = json.loads(backup_head)["seq"]
    con.close()
    # later activity, then an anchor is published
    from overt.store.datadir import open_data_dir

    store = open_data_dir(data_dir)
    with store.transaction() as tx:
        tx.audit.append("aud", "report.generated", "report", {})
    store.db.dispose()
    anchor = tmp_path / "anchor.json"
    assert main(["audit", "anchor", "--data-dir", str(data_dir), "--out", str(anchor)]) == 0
    # the attacker rolls the log back to the backup
    _sql(
        data_dir,
        f"DELETE FROM audit_log WHERE seq > {backup_seq}",
        f"UPDATE meta SET value='{backup_head}' WHERE key='audit_head'",
    )
    assert _verify(capsys, data_dir) == (0, [])  # without the anchor: indistinguishable from the backup
    rc, problems = _verify(capsys, data_dir, "--anchor", str(anchor))
    assert rc == 9
    assert problems[0]["kind"] == "anchor"
    assert "truncated" in str(problems[0]["message"])


def test_anchor_to_stdout(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    capsys.readouterr()
    assert main(["audit", "anchor", "--data-dir", str(data_dir)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["seq"] == len(_rows(data_dir))
    assert len(doc["hash"]) == 64
