"""The Low items of issue 10, each tried as reported and shown refused or fixed."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from overt.api.settings import ApiSettings
from overt.store.datadir import open_data_dir, permission_warnings
from tests.api.conftest import PASSWORDS, Running, start_server
from tests.cli.conftest import one_line_error, run

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def admin_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERT_PASSWORD", PASSWORDS["admin"])
    monkeypatch.delenv("OVERT_DATABASE_URL", raising=False)


@pytest.mark.usefixtures("admin_env")
def test_init_database_url_sqlite_is_created_0600(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "elsewhere" / "overt.db"
    db.parent.mkdir()
    code, _, err = run(
        capsys, "init", "--data-dir", str(tmp_path / "d"), "--admin", "admin", "--database-url", f"sqlite:///{db}"
    )
    assert code == 0, err
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


@pytest.mark.usefixtures("admin_env")
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///{tmp}/no/such/dir/overt.db", "no directory"),
        ("sqlite//{tmp}/overt.db", "not a database URL"),
        ("mysql://u@localhost/overt", "unsupported database"),
        ("postgres://u@localhost/overt", "unsupported database"),
    ],
)
def test_init_refuses_a_mistyped_database_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str, message: str
) -> None:
    code, _, err = run(
        capsys,
        "init",
        "--data-dir",
        str(tmp_path / "d"),
        "--admin",
        "admin",
        "--database-url",
        url.format(tmp=tmp_path),
    )
    assert code == 2
    assert message in one_line_error(err)
    assert not (tmp_path / "no").exists()
    assert not (tmp_path / "d" / "overt.json").exists()


@pytest.mark.usefixtures("admin_env")
def test_a_mistyped_url_on_open_creates_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "init", "--data-dir", str(tmp_path / "d"), "--admin", "admin")[0] == 0
    typo = tmp_path / "overt-typo.db"
    code, _, err = run(
        capsys,
        "user",
        "list",
        "--data-dir",
        str(tmp_path / "d"),
        "--user",
        "admin",
        "--database-url",
        f"sqlite:///{typo}",
    )
    assert code == 2
    assert "no database at" in one_line_error(err)
    assert not typo.exists()


@pytest.mark.usefixtures("admin_env")
def test_a_corrupt_database_is_a_storage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "d"
    assert run(capsys, "init", "--data-dir", str(d), "--admin", "admin")[0] == 0
    for f in d.glob("overt.db*"):
        f.unlink()
    (d / "overt.db").write_bytes(b"this is not a database file at all" * 200)
    os.chmod(d / "overt.db", 0o600)
    code, _, err = run(capsys, "user", "list", "--data-dir", str(d), "--user", "admin")
    assert code == 5
    assert "corrupt" in one_line_error(err)
    assert "internal error" not in err


@pytest.mark.usefixtures("admin_env")
def test_a_huge_deployment_id_is_an_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "d"
    assert run(capsys, "init", "--data-dir", str(d), "--admin", "admin")[0] == 0
    code, _, err = run(capsys, "deployment", "show", "99999999999999999999999", "--data-dir", str(d))
    assert code == 3
    assert "out of range" in one_line_error(err)


def test_init_without_a_terminal_prints_no_getpass_warning(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("OVERT_PASSWORD", "OVERT_DATABASE_URL")}
    env["PYTHONPATH"] = str(ROOT / "src")
    p = subprocess.run(
        [sys.executable, "-m", "overt", "init", "--data-dir", str(tmp_path / "d"), "--admin", "admin"],
        input=PASSWORDS["admin"] + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert p.returncode == 0, p.stderr
    assert "GetPassWarning" not in p.stderr
    assert "echoed" not in p.stderr
    p = subprocess.run(
        [sys.executable, "-m", "overt", "init", "--data-dir", str(tmp_path / "d2"), "--admin", "admin"],
        input="",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert p.returncode == 2
    assert "GetPassWarning" not in p.stderr
    assert "no password" in p.stderr


def test_basic_authorization_from_a_proxy_is_ignored(running: Running) -> None:
    with running.client() as c:
        h = {"Authorization": "Basic dXNlcjpwYXNz"}
        assert c.get("/api/v1/health", headers=h).status_code == 200
        assert c.get("/login", headers=h).status_code == 200
        assert c.get("/api/v1/auth/csrf", headers=h).status_code == 200
        assert c.get("/api/v1/audit", headers=h).status_code == 401  # still nobody
        assert c.get("/api/v1/audit", headers={"Authorization": "Bearer x"}).status_code == 401


def test_sensitive_json_is_not_cached(running: Running) -> None:
    admin = running.login("admin")
    for path in ("/api/v1/users", "/api/v1/audit", "/api/v1/deployments", "/api/v1/auth/me", "/api/v1/tokens"):
        r = admin.get(path)
        assert r.status_code == 200
        assert r.headers["cache-control"] == "no-store", path
    admin.close()


def test_hsts_over_tls_only(tmp_path: Path) -> None:
    r = start_server(tmp_path / "d", trusted_proxies=("127.0.0.1",))
    try:
        with r.client() as c:
            assert "strict-transport-security" not in c.get("/api/v1/health").headers
            tls = c.get("/api/v1/health", headers={"X-Forwarded-Proto": "https"})
            assert tls.headers["strict-transport-security"].startswith("max-age=")
    finally:
        r.server.stop()
        r.store.db.dispose()


def test_hsts_header_is_not_believed_from_untrusted_peers(running: Running) -> None:
    with running.client() as c:
        r = c.get("/api/v1/health", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in r.headers


@pytest.mark.usefixtures("admin_env")
def test_world_readable_data_dir_or_database_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    d = tmp_path / "d"
    assert run(capsys, "init", "--data-dir", str(d), "--admin", "admin")[0] == 0
    url = f"sqlite:///{d / 'overt.db'}"
    assert permission_warnings(d, url) == []
    os.chmod(d, 0o755)
    os.chmod(d / "overt.db", 0o644)
    warnings = permission_warnings(d, url)
    assert len(warnings) == 2
    with caplog.at_level("WARNING"):
        open_data_dir(d).db.dispose()
    assert "readable by other users" in caplog.text


def test_readme_names_the_served_openapi_path(running: Running) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`/openapi.json`" not in readme
    assert "/api/openapi.json" in readme
    with running.client() as c:
        assert c.get("/api/openapi.json").status_code == 200


def test_settings_refuse_a_bad_trusted_proxy() -> None:
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6"):
        ApiSettings(trusted_proxies=("proxy.example",))


def test_a_corrupt_file_translates_to_a_storage_error() -> None:
    """The one translation the CLI (exit 5) and the API (503) share: never "internal error"."""
    from overt.store.db import storage_error

    exc = sqlite3.DatabaseError("file is not a database")
    assert storage_error(exc).exit_code == 5
