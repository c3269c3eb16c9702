"""A real PostgreSQL server for the ``postgres``-marked tests.

``$OVERT_TEST_POSTGRES_URL`` (e.g. from ``scripts/ci-postgres.sh``) names a running server whose
user may CREATE DATABASE; without it, a throwaway cluster is started in a temp dir (unix socket
only) with the Debian ``postgresql`` binaries (``initdb``/``pg_ctl``), as user ``postgres`` when
running as root. Each test gets its own fresh database. Absent binaries: the tests skip.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

SKIP_REASON = (
    "PostgreSQL server binaries absent: apt-get install postgresql, or set OVERT_TEST_POSTGRES_URL "
    "(scripts/ci-postgres.sh does both)"
)


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgCluster:
    """A throwaway cluster in a temp dir (unix socket only); ``restart`` cuts every connection."""

    bindir: Path
    root: Path
    port: int
    prefix: list[str]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://overt@/postgres?host={self.root}&port={self.port}"

    def ctl(self, *args: str, check: bool = True) -> None:
        opts = f"-k {self.root} -p {self.port} -c listen_addresses='' -c fsync=off"
        data, log = str(self.root / "data"), str(self.root / "log")
        cmd = [*self.prefix, str(self.bindir / "pg_ctl"), "-D", data, "-o", opts, "-l", log, "-w", *args]
        subprocess.run(cmd, check=check, capture_output=True)

    def restart(self) -> None:
        self.ctl("-m", "fast", "restart")


@contextmanager
def private_cluster() -> Iterator[PgCluster]:
    """initdb + start a cluster of our own (as user ``postgres`` when root); stopped and removed after."""
    bindir = _bindir()
    if bindir is None:
        pytest.skip(SKIP_REASON)
    tmp = Path(tempfile.mkdtemp(prefix="overt-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres", "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*prefix, str(bindir / "initdb"), "-D", str(tmp / "data"), "-U", "overt", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    cluster = PgCluster(bindir, tmp, _free_port(), prefix)
    cluster.ctl("start")
    try:
        yield cluster
    finally:
        cluster.ctl("-m", "immediate", "stop", check=False)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    url = os.environ.get("OVERT_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    with private_cluster() as cluster:
        yield cluster.url


def _admin_conninfo(url: str) -> dict[str, object]:
    u = make_url(url)
    info: dict[str, object] = {"dbname": u.database or "postgres", "user": u.username or "overt"}
    if u.password:
        info["password"] = u.password
    host = u.query.get("host") if u.host is None else u.host
    if host:
        info["host"] = host if isinstance(host, str) else host[0]
    port = u.port or u.query.get("port")
    if port:
        info["port"] = int(port if isinstance(port, str | int) else port[0])
    return info


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the test server; dropped afterwards."""
    import psycopg

    name = "overt_t_" + uuid.uuid4().hex[:12]
    info = _admin_conninfo(postgres_server)
    with psycopg.connect(**info, autocommit=True) as conn:  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(**info, autocommit=True) as conn:  # type: ignore[arg-type]
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
