"""A private PostgreSQL cluster that a test may restart (never the shared CI server)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.postgres_fixture import SKIP_REASON, _bindir, _free_port


@dataclass
class PgCluster:
    bindir: Path
    root: Path
    port: int
    prefix: list[str]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://overt@/postgres?host={self.root}&port={self.port}"

    def _ctl(self, *args: str) -> None:
        opts = f"-k {self.root} -p {self.port} -c listen_addresses='' -c fsync=off"
        data = str(self.root / "data")
        log = str(self.root / "log")
        subprocess.run(
            [*self.prefix, str(self.bindir / "pg_ctl"), "-D", data, "-o", opts, "-l", log, "-w", *args],
            check=True,
            capture_output=True,
        )

    def restart(self) -> None:
        """A real restart: every connection of every process is cut."""
        self._ctl("-m", "fast", "restart")


@pytest.fixture
def pg_cluster() -> Iterator[PgCluster]:
    bindir = _bindir()
    if bindir is None:
        pytest.skip(SKIP_REASON)
    root = Path(tempfile.mkdtemp(prefix="overt-pgx-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*prefix, str(bindir / "initdb"), "-D", str(root / "data"), "-U", "overt", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    cluster = PgCluster(bindir, root, _free_port(), prefix)
    cluster._ctl("start")
    try:
        yield cluster
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)
