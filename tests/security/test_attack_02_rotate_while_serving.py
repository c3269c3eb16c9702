"""Attack 2 (issue 10): ``overt keys rotate`` while ``overt serve`` runs destroyed data: the server
kept the old key, wrapped new alert crops under a key that no longer existed, every decrypt
failed, and every later rotation failed (exit 6) leaving ``kek.key.new`` behind.

Reproduced as tried: a real ``overt serve`` subprocess, a device posting alerts to it all the
while, ``overt keys rotate`` run twice as a separate process. Now every alert posted before,
during and after the rotations is stored and its crop decrypts (through the running server and
afterwards); both rotations succeed; nothing is left wrapped under a retired key; a stray
``kek.key.new`` is settled; a second rotation while one holds the data directory's lock is refused.
"""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from overt.api.testing import free_port
from overt.crypto.envelope import kek_fingerprint
from overt.crypto.keys import FileKeyStore
from overt.deployments import DeploymentService
from overt.store.datadir import data_dir_lock, init_data_dir, open_data_dir
from overt.store.models import DataKeyRow
from tests.gov_helpers import add_entry, plan, publish_late, users


def _crop(i: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (112, 112), (i % 256, 40, 90)).save(buf, "JPEG")
    return buf.getvalue()


class Server:
    def __init__(self, data: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "overt", "serve", "--data-dir", str(data), "--port", str(self.port),
             "--insecure-cookies"],
            env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.url + "/api/v1/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert self.proc.poll() is None, self.proc.stderr.read().decode() if self.proc.stderr else ""
            assert time.monotonic() < deadline, "overt serve did not come up"
            time.sleep(0.1)

    def login(self, name: str) -> httpx.Client:
        c = httpx.Client(base_url=self.url, timeout=60)
        csrf = c.get("/api/v1/auth/csrf").json()["csrf_token"]
        password = "admin-password" if name == "admin" else f"{name}-pass-phrase"  # as tests/gov_helpers.users
        r = c.post("/api/v1/auth/login", json={"username": name, "password": password},
                   headers={"X-CSRF-Token": csrf})  # fmt: skip
        r.raise_for_status()
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return c

    def stop(self) -> str:
        self.proc.terminate()
        _, err = self.proc.communicate(timeout=30)
        return err.decode()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, Server, int, int]]:
    data = tmp_path / "data"
    store = init_data_dir(data)
    u = users(store)
    entry = add_entry(store, "CASE-1", 1)
    svc = DeploymentService(store)
    dep = svc.create(u["op"], plan(datetime.now(UTC) - timedelta(minutes=5)))
    svc.authorise(u["officer"], dep.id)
    publish_late(svc, u, dep.id)
    svc.start(u["op"], dep.id)
    store.db.dispose()
    server = Server(data)
    try:
        yield data, server, dep.id, entry
    finally:
        server.stop()


def _rotate(data: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OVERT_PASSWORD": "admin-password"}
    return subprocess.run(
        [sys.executable, "-m", "overt", "keys", "rotate", "--data-dir", str(data), "--user", "admin", "--json"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _alert(entry: int, i: int) -> dict[str, object]:
    return {
        "alert_id": uuid.uuid4().hex[:16],
        "subject": str(entry),
        "similarity": 0.7,
        "camera": "cam-1",
        "track_id": i,
        "alerted_at": datetime.now(UTC).isoformat(),
        "probe_crop_jpeg_b64": base64.b64encode(_crop(i)).decode(),
    }


def test_rotating_twice_while_serving_loses_nothing(served: tuple[Path, Server, int, int]) -> None:
    data, server, dep, entry = served
    with closing(server.login("admin")) as admin:
        r = admin.post("/api/v1/tokens", json={"name": "edge", "kind": "device", "deployment_id": dep})
        assert r.status_code == 201, r.text
        token = r.json()["token"]
    posted: dict[int, bytes] = {}
    failures: list[str] = []
    stop = threading.Event()

    def device() -> None:
        with httpx.Client(base_url=server.url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as dev:
            i = 0
            while not stop.is_set() or i < 3:
                body = _alert(entry, i)
                r = dev.post("/api/v1/ingest/alerts", json=body)
                if r.status_code == 201:
                    posted[r.json()["alert_id"]] = _crop(i)
                else:
                    failures.append(f"{r.status_code} {r.text}")
                i += 1

    t = threading.Thread(target=device)
    t.start()
    try:
        time.sleep(1.0)
        first = _rotate(data)
        assert first.returncode == 0, first.stderr
        time.sleep(0.5)
        second = _rotate(data)
        assert second.returncode == 0, second.stderr  # later rotations work
        time.sleep(0.5)
    finally:
        stop.set()
        t.join(timeout=120)
    assert not failures
    assert len(posted) >= 6
    assert not (data / "kek.key.new").exists()
    with closing(server.login("op")) as op:
        for alert_id, crop in posted.items():
            r = op.get(f"/api/v1/alerts/{alert_id}/crop.jpg")
            assert r.status_code == 200, (alert_id, r.text)
            assert r.content == crop
    server.stop()
    store = open_data_dir(data)
    current = kek_fingerprint(FileKeyStore(data / "kek.key").load_kek())
    with store.db.session() as s:
        live = s.scalars(select(DataKeyRow.kek_id).where(DataKeyRow.wrapped.is_not(None))).all()
    assert set(live) == {current}  # nothing wrapped under a retired key
    with store.transaction() as tx:
        assert tx.audit.verify().ok
        assert [e.actor for e in tx.audit.entries(action="keys.rotated")] == ["admin", "admin"]
        for alert_id, crop in posted.items():
            assert tx.alerts.crop(alert_id) == crop
    store.db.dispose()


def test_stray_pending_key_is_settled_and_concurrent_rotation_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = init_data_dir(data)
    users(store)
    store.db.dispose()
    FileKeyStore.create(data / "kek.key.new")  # left by a rotation that crashed before its commit
    with data_dir_lock(data):
        busy = _rotate(data)
    assert busy.returncode != 0
    assert "locked by a key rotation in progress" in busy.stderr
    assert (data / "kek.key.new").exists()  # a running rotation's file is never touched
    ok = _rotate(data)
    assert ok.returncode == 0, ok.stderr
    assert not (data / "kek.key.new").exists()
    FileKeyStore.create(data / "kek.key.new")
    open_data_dir(data).db.dispose()  # start-up removes a stray that the database never used
    assert not (data / "kek.key.new").exists()
