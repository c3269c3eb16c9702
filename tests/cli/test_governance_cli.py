"""The governance CLI end to end, in-process via overt.cli.app.main and as subprocesses."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from overt.cli.app import main
from overt.samples import sample_image

PASSWORDS = {
    "admin": "admin-password",
    "officer": "officer-pass-phrase",
    "wm": "manager-pass-phrase",
    "op": "operator-pass-phrase",
}


def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, user: str | None, *args: str
) -> tuple[int, str, str]:
    if user:
        monkeypatch.setenv("OVERT_PASSWORD", PASSWORDS[user])
        args = (*args, "--user", user)
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds")


@pytest.fixture
def data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "data"
    monkeypatch.setenv("OVERT_DATA_DIR", str(d))
    monkeypatch.setenv("OVERT_PASSWORD", PASSWORDS["admin"])
    rc, _, err = run(capsys, monkeypatch, None, "init", "--admin", "admin", "--json")
    assert rc == 0, err
    for name, role in [("officer", "authorising_officer"), ("wm", "watchlist_manager"), ("op", "operator")]:
        monkeypatch.setenv("OVERT_NEW_PASSWORD", PASSWORDS[name])
        rc, _, err = run(capsys, monkeypatch, "admin", "user", "add", name, "--role", role)
        assert rc == 0, err
    return d


def _enrol(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, ref: str, image: Path
) -> tuple[int, str, str]:
    return run(
        capsys, monkeypatch, "wm", "watchlist", "add", str(image), "--ref", ref, "--category", "wanted_by_court",
        "--reason", "Warrant W-777 Fraud", "--source", "custody photo", "--legal-basis", "PACE s64A",
        "--taken", "2025-06-01", "--review", "2030-06-01", "--json",
    )  # fmt: skip


def test_init_layout_and_modes(data_dir: Path) -> None:
    assert (data_dir.stat().st_mode & 0o777) == 0o700
    assert ((data_dir / "kek.key").stat().st_mode & 0o777) == 0o600
    assert ((data_dir / "overt.db").stat().st_mode & 0o777) == 0o600
    assert json.loads((data_dir / "overt.json").read_text())["key"]["type"] == "file"


def test_full_governed_flow_and_nothing_readable_on_disk(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    image = tmp_path / "subject.jpg"
    image.write_bytes(sample_image("yaoming").read_bytes())
    rc, out, err = _enrol(capsys, monkeypatch, "CASE-XJ-4471", image)
    assert rc == 0, err
    entry_id = json.loads(out)["id"]
    rc, _, err = _enrol(capsys, monkeypatch, "CASE-XJ-4471", image)
    assert rc == 3
    assert "duplicate subject reference" in err

    now = datetime.now(UTC)
    rc, out, err = run(
        capsys, monkeypatch, "op", "deployment", "create", "--purpose", "Find wanted people", "--legal-basis",
        "common law", "--place", "Market Square", "--start", _iso(now - timedelta(minutes=1)), "--end",
        _iso(now + timedelta(hours=2)), "--criteria", "court warrants", "--category", "wanted_by_court",
        "--min-similarity", "0.4", "--justification", "calibrated", "--json",
    )  # fmt: skip
    assert rc == 0, err
    dep = str(json.loads(out)["id"])
    rc, out, err = run(
        capsys, monkeypatch, "op", "deployment", "set-threshold", dep, "--min-similarity", "0.42",
        "--justification", "calibrated at FPIR 1/6000", "--json",
    )  # fmt: skip
    assert rc == 0, err
    assert json.loads(out)["min_similarity"] == 0.42
    rc, _, err = run(capsys, monkeypatch, "op", "deployment", "authorise", dep)
    assert rc == 7  # operators may not authorise
    rc, out, err = run(capsys, monkeypatch, "officer", "deployment", "authorise", dep, "--json")
    assert rc == 0, err
    auth = json.loads(out)
    assert auth["watchlist_size"] == 1
    assert auth["expected_false_alerts_per_1000"] >= 0
    rc, _, err = run(capsys, monkeypatch, "op", "deployment", "start", dep)
    assert rc != 0
    assert "notice has not been published" in err
    rc, out, err = run(capsys, monkeypatch, "op", "deployment", "publish-notice", dep, "--json")
    assert rc == 0, err
    assert json.loads(out)["notice_published_at"]
    rc, _, err = run(capsys, monkeypatch, "op", "deployment", "start", dep)
    assert rc != 0
    assert "the policy needs 24 h" in err  # the data dir's default lead time
    sign = tmp_path / "sign.pdf"
    rc, _, err = run(capsys, monkeypatch, "op", "deployment", "signage", dep, "--out", str(sign))
    assert rc == 0, err
    assert sign.read_bytes().startswith(b"%PDF")
    rc, _, err = run(capsys, monkeypatch, "op", "deployment", "late-start", dep, "--reason", "urgent: risk to life")
    assert rc != 0  # an operator may not override the lead time
    rc, _, err = run(
        capsys, monkeypatch, "officer", "deployment", "late-start", dep, "--reason", "urgent: risk to life"
    )
    assert rc == 0, err
    rc, out, err = run(capsys, monkeypatch, "op", "deployment", "start", dep, "--json")
    assert rc == 0, err
    assert json.loads(out)["state"] == "active"

    # The pipeline's side: it loads the gallery and records alerts with an encrypted crop.
    from overt.store.datadir import open_data_dir
    from overt.watchlist.snapshots import load_snapshot_gallery

    store = open_data_dir(data_dir)
    gallery = load_snapshot_gallery(store, int(dep))
    assert [ref for ref, _ in gallery] == ["CASE-XJ-4471"]
    template = gallery[0][1][0]
    from overt.alerts.review import AlertService

    a = AlertService(store).record(
        deployment_id=int(dep), camera_id="cam-1", entry_id=entry_id, similarity=0.71,
        raised_at=datetime.now(UTC), crop_jpeg=image.read_bytes(),
    )  # fmt: skip
    with store.transaction() as tx:
        tx.deployments.add_faces_processed(int(dep), 1234)
    store.db.dispose()
    rc, out, err = run(capsys, monkeypatch, "op", "alert", "list", "--json")
    assert rc == 0, err
    assert json.loads(out)[0]["has_image"] is True
    rc, out, err = run(
        capsys, monkeypatch, "op", "alert", "adjudicate", str(a.id), "--verdict", "true", "--engaged",
        "--outcome", "arrested",
    )  # fmt: skip
    assert rc == 0, err
    exported = tmp_path / "export.jpg"
    rc, out, err = run(capsys, monkeypatch, "op", "alert", "export", str(a.id), "--out", str(exported))
    assert rc == 0, err
    assert exported.read_bytes() == image.read_bytes()
    exported.unlink()

    rc, out, err = run(capsys, monkeypatch, "op", "deployment", "close", dep)
    assert rc == 0, err
    rc, out, err = run(capsys, monkeypatch, "admin", "report", dep, "--json", "--html", str(tmp_path / "r.html"))
    assert rc == 0, err
    rep = json.loads(out)
    assert (rep["faces_processed"], rep["alerts"], rep["true_alerts"], rep["engagements"]) == (1234, 1, 1, 1)
    assert rep["watchlist_size"] == 1
    page = (tmp_path / "r.html").read_text()
    assert "data:image/png;base64," in page
    assert "CASE-XJ-4471" not in page
    start, end = _iso(now - timedelta(days=1)), _iso(now + timedelta(days=1))
    rc, out, err = run(capsys, monkeypatch, "admin", "report", "--from", start, "--to", end, "--json")
    assert rc == 0, err
    assert json.loads(out)["totals"]["deployments"] == 1

    rc, out, err = run(capsys, monkeypatch, None, "audit", "verify", "--json")
    assert rc == 0, err
    assert json.loads(out)["ok"]

    # Nothing on disk identifies or depicts the subject: no reference, reason, JPEG or template bytes.
    jpeg = image.read_bytes()
    needles = [b"CASE-XJ-4471", b"W-777", b"Fraud", b"\xff\xd8\xff", jpeg[100:132], template.vector.tobytes()[:32]]
    for f in data_dir.rglob("*"):
        if f.is_file():
            blob = f.read_bytes()
            for n in needles:
                assert n not in blob, f"{n[:12]!r} found in {f.name}"
    con = sqlite3.connect(data_dir / "overt.db")
    dumped = "\n".join(con.iterdump())
    con.close()
    assert "CASE-XJ-4471" not in dumped
    assert "Warrant" not in dumped


def test_audit_tamper_reported_by_cli(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    con = sqlite3.connect(data_dir / "overt.db")
    con.execute('UPDATE audit_log SET details_json=\'{"role":"admin"}\' WHERE seq=2')
    con.commit()
    con.close()
    rc, out, err = run(capsys, monkeypatch, None, "audit", "verify")
    assert rc == 9
    assert "entry 2" in out
    assert "does not verify" in err


def test_wrong_missing_and_insecure_keys_destroy_nothing(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = data_dir / "kek.key"
    original = key.read_bytes()

    def dump() -> str:
        con = sqlite3.connect(data_dir / "overt.db")
        try:
            return "\n".join(con.iterdump())
        finally:
            con.close()

    db_before = dump()
    key.chmod(0o644)
    rc, _, err = run(capsys, monkeypatch, None, "deployment", "list")
    assert rc == 6
    assert "chmod 600" in err
    key.chmod(0o600)
    key.write_text("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=\n")
    rc, _, err = run(capsys, monkeypatch, None, "deployment", "list")
    assert rc == 6
    assert "does not belong" in err
    key.unlink()
    rc, _, err = run(capsys, monkeypatch, None, "deployment", "list")
    assert rc == 6
    assert "not found" in err
    key.write_bytes(original)
    key.chmod(0o600)
    assert dump() == db_before  # same contents (a checkpoint may have rewritten pages)
    rc, _, err = run(capsys, monkeypatch, None, "deployment", "list")
    assert rc == 0, err


def test_keys_rotate_and_interrupted_rotation(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    old = (data_dir / "kek.key").read_bytes()
    rc, out, err = run(capsys, monkeypatch, "admin", "keys", "rotate", "--json")
    assert rc == 0, err
    assert json.loads(out)["rewrapped_keys"] >= 0
    assert (data_dir / "kek.key").read_bytes() != old
    assert ((data_dir / "kek.key").stat().st_mode & 0o777) == 0o600
    # Simulate a crash after the database commit but before the key file was replaced.
    from overt.crypto.keys import FileKeyStore
    from overt.store.datadir import open_data_dir

    store = open_data_dir(data_dir)
    pending = FileKeyStore.create(data_dir / "kek.key.new")
    store.rotate_kek(pending.load_kek(), actor="admin")
    store.db.dispose()
    rc, _, err = run(capsys, monkeypatch, None, "audit", "verify")
    assert rc == 0, err  # open_data_dir finished the rotation
    assert not (data_dir / "kek.key.new").exists()


def test_purge_dry_run_and_real(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from overt.domain.deployments import DeploymentPlan
    from overt.domain.watchlist import Category
    from overt.store.datadir import open_data_dir

    store = open_data_dir(data_dir)
    old = datetime.now(UTC) - timedelta(hours=30)
    with store.transaction() as tx:
        d = tx.deployments.add(
            DeploymentPlan("p", "l", "x", old, old + timedelta(hours=1), "c", (Category.OTHER,), 0.4, "j"),
            created_by="op", now=old,
        )  # fmt: skip
        ids = [
            tx.alerts.add(deployment_id=d.id, camera_id="c", entry_id=None, similarity=0.5, raised_at=t, crop=b"x")
            for t in (old, old, datetime.now(UTC))
        ]
        tx.alerts.retain(ids[1].id, reason="evidence", until=datetime.now(UTC) + timedelta(days=30))
    store.db.dispose()
    rc, out, err = run(capsys, monkeypatch, None, "purge", "--dry-run", "--json")
    assert rc == 0, err
    assert json.loads(out)["alerts"] == [ids[0].id]
    rc, out, err = run(capsys, monkeypatch, "admin", "purge", "--json")
    assert json.loads(out)["alerts"] == [ids[0].id]
    rc, out, err = run(capsys, monkeypatch, "admin", "audit", "show", "--action", "alert.deleted", "--json")
    assert [e["target"] for e in json.loads(out)] == [f"alert:{ids[0].id}"]


def test_errors_are_one_line(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rc, _, err = run(
        capsys, monkeypatch, "op", "deployment", "create", "--purpose", "p", "--legal-basis", "l", "--place", "x",
        "--start", "2026-02-30T10:00+00:00", "--end", "2026-03-01T10:00+00:00", "--criteria", "c",
        "--category", "wanted_by_court", "--min-similarity", "0.4", "--justification", "j",
    )  # fmt: skip
    assert rc == 3
    assert re.fullmatch(r"overt: error: --start: .* is not a date-time .*\n", err)
    rc, _, err = run(capsys, monkeypatch, None, "deployment", "show", "99")
    assert rc == 3
    assert "no deployment 99" in err


KILL_SCRIPT = r"""
import sys
from datetime import UTC, datetime, timedelta
from collections.abc import Iterator
from pathlib import Path
from overt.store.datadir import open_data_dir
store = open_data_dir(Path(sys.argv[1]))
print("ready", flush=True)
i = 0
while True:
    with store.transaction() as tx:
        d = tx.deployments.get(1)
        a = tx.alerts.add(deployment_id=1, camera_id="c", entry_id=None, similarity=0.5,
                          raised_at=datetime.now(UTC), crop=b"\x00" * 2048)
        tx.audit.append("system", "alert.raised", f"alert:{a.id}", {"i": i})
    i += 1
"""


@pytest.mark.slow
def test_kill_9_mid_write_leaves_consistent_db_and_chain(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from overt.domain.deployments import DeploymentPlan
    from overt.domain.watchlist import Category
    from overt.store.datadir import open_data_dir

    store = open_data_dir(data_dir)
    t = datetime.now(UTC)
    with store.transaction() as tx:
        tx.deployments.add(
            DeploymentPlan("p", "l", "x", t, t + timedelta(hours=1), "c", (Category.OTHER,), 0.4, "j"),
            created_by="op", now=t,
        )  # fmt: skip
        tx.audit.append("op", "deployment.created", "deployment:1", {"min_similarity": 0.4})  # verify cross-checks it
    store.db.dispose()
    for _ in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", KILL_SCRIPT, str(data_dir)], stdout=subprocess.PIPE, env=os.environ.copy()
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        import time

        time.sleep(0.8)
        proc.kill()
        proc.wait()
        proc.stdout.close()
    con = sqlite3.connect(data_dir / "overt.db")
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    n_alerts = con.execute("SELECT count(*) FROM alerts").fetchone()[0]
    n_raised = con.execute("SELECT count(*) FROM audit_log WHERE action='alert.raised'").fetchone()[0]
    counter = con.execute("SELECT alerts_raised FROM deployments WHERE id=1").fetchone()[0]
    con.close()
    assert n_alerts > 0
    assert n_alerts == n_raised == counter  # every alert committed with its audit entry, or neither
    rc, out, err = run(capsys, monkeypatch, None, "audit", "verify", "--json")
    assert rc == 0, err
    assert json.loads(out)["ok"]


def test_disk_full_is_a_clear_error_and_loses_nothing(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from sqlalchemy.orm import Session

    before = subprocess.run(
        [sys.executable, "-c", "print(1)"], capture_output=True, check=True
    )  # warm nothing; keeps the subprocess import honest
    assert before.returncode == 0
    real_flush = Session.flush
    calls = {"n": 0}

    def full(self: Session, objects: object = None) -> None:
        calls["n"] += 1
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Session, "flush", full)
    now = datetime.now(UTC)
    rc, _, err = run(
        capsys, monkeypatch, "op", "deployment", "create", "--purpose", "p", "--legal-basis", "l", "--place", "x",
        "--start", _iso(now), "--end", _iso(now + timedelta(hours=1)), "--criteria", "c",
        "--category", "other", "--min-similarity", "0.4", "--justification", "j",
    )  # fmt: skip
    monkeypatch.setattr(Session, "flush", real_flush)
    assert calls["n"] >= 1
    assert rc == 5
    assert "no space left on device" in err
    rc, out, err = run(capsys, monkeypatch, None, "audit", "verify", "--json")
    assert rc == 0, err
    rc, out, _ = run(capsys, monkeypatch, None, "deployment", "list", "--json")
    assert json.loads(out) == []


def test_watchlist_rejects_bad_images_cleanly(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    rc, _, err = _enrol(capsys, monkeypatch, "R-1", bad)
    assert rc == 3
    assert err.count("\n") == 1
    many = tmp_path / "many.jpg"
    many.write_bytes(sample_image("gdp").read_bytes())
    rc, _, err = _enrol(capsys, monkeypatch, "R-1", many)
    assert rc == 3
    assert "expected exactly one" in err
    rc, out, _ = run(capsys, monkeypatch, "wm", "watchlist", "list", "--json")
    assert json.loads(out) == []
    _ = np  # numpy imported for template bytes above


def test_passphrase_and_env_key_sources(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64

    monkeypatch.setenv("OVERT_PASSWORD", PASSWORDS["admin"])
    pdir = str(tmp_path / "p")
    monkeypatch.setenv("OVERT_PASSPHRASE", "correct horse battery staple")
    rc, _, err = run(
        capsys, monkeypatch, None, "init", "--admin", "admin", "--key-source", "passphrase", "--data-dir", pdir
    )
    assert rc == 0, err
    assert not (tmp_path / "p" / "kek.key").exists()
    monkeypatch.setenv("OVERT_PASSPHRASE", "wrong horse")
    rc, _, err = run(capsys, monkeypatch, None, "audit", "verify", "--data-dir", pdir)
    assert rc == 6
    assert "does not belong" in err
    monkeypatch.setenv("OVERT_PASSPHRASE", "correct horse battery staple")
    monkeypatch.setenv("OVERT_NEW_PASSPHRASE", "a new passphrase")
    rc, _, err = run(capsys, monkeypatch, "admin", "keys", "rotate", "--data-dir", pdir)
    assert rc == 0, err
    monkeypatch.setenv("OVERT_PASSPHRASE", "a new passphrase")
    rc, _, err = run(capsys, monkeypatch, None, "audit", "verify", "--data-dir", pdir)
    assert rc == 0, err

    edir = str(tmp_path / "e")
    monkeypatch.delenv("OVERT_KEK", raising=False)
    rc, _, err = run(capsys, monkeypatch, None, "init", "--admin", "admin", "--key-source", "env", "--data-dir", edir)
    assert rc == 6
    assert "OVERT_KEK is not set" in err
    assert not (tmp_path / "e" / "overt.json").exists()
    monkeypatch.setenv("OVERT_KEK", base64.b64encode(os.urandom(32)).decode())
    rc, _, err = run(capsys, monkeypatch, None, "init", "--admin", "admin", "--key-source", "env", "--data-dir", edir)
    assert rc == 0, err
    new = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("OVERT_NEW_KEK", new)
    rc, _, err = run(capsys, monkeypatch, "admin", "keys", "rotate", "--data-dir", edir)
    assert rc == 0, err
    monkeypatch.setenv("OVERT_KEK", new)
    rc, _, err = run(capsys, monkeypatch, None, "audit", "verify", "--data-dir", edir)
    assert rc == 0, err


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 600 KiB tmpfs (needs root and mount permission; skipped otherwise)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root); the mocked ENOSPC test covers the translation")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_real_full_disk(tiny_disk: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from overt.domain.deployments import DeploymentPlan
    from overt.domain.watchlist import Category
    from overt.errors import StorageError
    from overt.store.datadir import init_data_dir

    d = tiny_disk / "data"
    store = init_data_dir(d)
    assert {f.name: f.stat().st_mode & 0o777 for f in d.iterdir() if f.name.startswith("overt.db")} == {
        "overt.db": 0o600,
        "overt.db-wal": 0o600,
        "overt.db-shm": 0o600,
    }
    t = datetime.now(UTC)
    with store.transaction() as tx:
        dep = tx.deployments.add(
            DeploymentPlan("p", "l", "x", t, t + timedelta(hours=1), "c", (Category.OTHER,), 0.4, "j"),
            created_by="op", now=t,
        )  # fmt: skip
        tx.audit.append("op", "deployment.created", f"deployment:{dep.id}", {"min_similarity": 0.4})

    def fill() -> int:
        saved = 0
        for _ in range(1000):
            with store.transaction() as tx:
                a = tx.alerts.add(
                    deployment_id=dep.id, camera_id="c", entry_id=None, similarity=0.5, raised_at=t,
                    crop=os.urandom(30000),
                )  # fmt: skip
                tx.audit.append("system", "alert.raised", f"alert:{a.id}", {})
            saved += 1
            counter["saved"] = saved
        return saved

    counter = {"saved": 0}
    with pytest.raises(StorageError, match="no space left on device"):
        fill()
    saved = counter["saved"]
    store.db.dispose()
    con = sqlite3.connect(d / "overt.db")
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT count(*) FROM alerts").fetchone()[0] == saved > 0
    con.close()
    rc, out, err = run(capsys, monkeypatch, None, "audit", "verify", "--data-dir", str(d), "--json")
    assert rc == 0, err
    assert json.loads(out)["entries"] == saved + 1  # + deployment.created
