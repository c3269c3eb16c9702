"""Attack: read faces off the disk. No file Overt writes holds biometric data in clear.

Real processes with a private temp folder: ``overt serve`` takes watch-list uploads of 0.5, 1.5
and 9 MB (Starlette spools uploads over 1 MB to the temp folder unless parsed in memory);
``overt watch --deployment`` alerts into the store, a JSONL file and a webhook that is down (so
its spool fills); ``overt run`` in edge mode posts to a server that is down (so the edge spool
fills). Then every file under the data directory, the working folder and the temp folder is
searched for JPEG/PNG images, base64 JPEG (``/9j/``), the subject references and the subject's
template bytes. Also: an upload over the limit is refused cleanly (413) and nothing is spooled.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from overt.api.testing import free_port
from overt.config import EngineConfig, build_engine
from overt.samples import sample_image
from overt.store.datadir import init_data_dir
from tests.api.conftest import Running, make_users
from tests.api.helpers import active_deployment, upload_entry
from tests.api.test_run import make_clip

pytestmark = pytest.mark.slow
SRC = Path(__file__).resolve().parents[2] / "src"

REFS = ("CASE-ALPHA-0001", "CASE-BRAVO-0002", "CASE-CHARLIE-0003")
# Whole JPEG/PNG headers, not bare 3-byte magic (random ciphertext holds those by chance).
IMAGE_SIGNATURES = (
    re.compile(rb"\xff\xd8\xff\xe0\x00\x10JFIF"),
    re.compile(rb"\xff\xd8\xff\xe1..Exif", re.S),
    re.compile(rb"\xff\xd8\xff\xdb\x00[\x43\x84]"),
    re.compile(rb"\x89PNG\r\n\x1a\n"),
)


def padded_jpeg(size_bytes: int) -> bytes:
    """The sample photo, padded after its end marker to ``size_bytes`` (decoders ignore the tail)."""
    data = sample_image("yaoming").read_bytes()
    return data + np.random.default_rng(size_bytes).integers(0, 256, size_bytes - len(data), np.uint8).tobytes()


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(url + "/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert proc.poll() is None, "the server exited"
        assert time.monotonic() < deadline, "the server did not come up"
        time.sleep(0.2)


def every_file(*roots: Path) -> Iterator[Path]:
    for root in roots:
        for p in root.rglob("*"):
            if p.is_file() and not p.is_symlink():
                yield p


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, object]]:
    inputs = tmp_path / "inputs"  # what the test feeds in (the clip has faces); never scanned
    inputs.mkdir()
    work, tmp, data = tmp_path / "work", tmp_path / "tmp", tmp_path / "data"
    work.mkdir()
    tmp.mkdir()
    engine = build_engine(EngineConfig())
    clip = make_clip(engine, inputs / "clip.mp4", seconds=2.5)
    face = engine.one_face(engine.read(sample_image("yaoming")))
    assert face.template is not None
    store = init_data_dir(data)
    make_users(store)
    env = {
        **os.environ,
        "TMPDIR": str(tmp),
        "TEMP": str(tmp),
        "TMP": str(tmp),
        "OVERT_DATA_DIR": str(data),
        "PYTHONPATH": os.pathsep.join(
            p for p in [str(Path(__file__).parents[2] / "src"), os.environ.get("PYTHONPATH")] if p
        ),
    }
    yield {
        "work": work,
        "tmp": tmp,
        "data": data,
        "clip": clip,
        "store": store,
        "env": env,
        "template": face.template.vector.astype(np.float32).tobytes(),
    }
    store.db.dispose()


def overt(env: dict[str, str], cwd: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "overt", *args], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def test_no_file_overt_writes_holds_a_face_a_reference_or_a_template(world: dict[str, object]) -> None:
    work, tmp, data, env = Path(str(world["work"])), Path(str(world["tmp"])), Path(str(world["data"])), world["env"]
    assert isinstance(env, dict)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    serve = overt(env, work, "serve", "--data-dir", str(data), "--port", str(port), "--insecure-cookies")
    try:
        wait_http(url, serve)
        running = Running(url, world["store"], data, None)  # type: ignore[arg-type]
        wm = running.login("wm")
        # One face three times: each enrolment confirms the one active lookalike (the first is
        # removed before the third, so that only one entry looks like it).
        r = upload_entry(wm, REFS[0], padded_jpeg(512 * 1024))
        assert r.status_code == 201, r.text
        r = upload_entry(wm, REFS[1], padded_jpeg(1536 * 1024), confirm_duplicate_of=1)
        assert r.status_code == 201, r.text
        r = wm.request("DELETE", "/api/v1/watchlist/entries/1", json={"reason": "enrolled twice"})
        assert r.status_code == 204, r.text
        r = upload_entry(wm, REFS[2], padded_jpeg(9 * 1024 * 1024), confirm_duplicate_of=2)
        assert r.status_code == 201, r.text  # 9 MB is under the 10 MB limit: accepted, in memory
        wm.close()
        dep = active_deployment(running, start=True)
        admin = running.login("admin")
        tok = admin.post("/api/v1/tokens", json={"name": "edge", "kind": "device", "deployment_id": dep})
        assert tok.status_code == 201, tok.text
        admin.close()
    finally:
        serve.send_signal(signal.SIGINT)
        serve.communicate(timeout=30)

    # watch: alerts into the store, a JSONL file and a webhook that is down (its spool fills).
    dead = f"http://127.0.0.1:{free_port()}/hook"
    watch = overt(
        env, work, "watch", "--deployment", str(dep), "--source", str(world["clip"]), "--data-dir", str(data),
        "--alerts-jsonl", "alerts.jsonl", "--webhook", dead, "--json",
    )  # fmt: skip
    out, err = watch.communicate(timeout=300)
    assert watch.returncode == 0, err.decode()
    assert b'"alerts": 0' not in out
    assert (data / "spool" / "webhook.jsonl").read_text().strip(), "the webhook spool is empty"

    # run, edge mode, with the server down: the edge spool fills.
    edge = overt(
        {**env, "OVERT_DEVICE_TOKEN": tok.json()["token"]}, work, "run", "--deployment", str(dep),
        "--source", str(world["clip"]), "--server", url, "--data-dir", str(data), "--no-realtime",
    )  # fmt: skip
    spool = data / "spool" / "alerts.jsonl"
    try:
        deadline = time.monotonic() + 120
        while not (spool.exists() and spool.read_text().strip()) and time.monotonic() < deadline:
            assert edge.poll() is None, edge.stderr.read().decode() if edge.stderr else ""
            time.sleep(0.2)
        assert spool.read_text().strip(), "the edge spool is empty"
    finally:
        edge.send_signal(signal.SIGINT)
        edge.communicate(timeout=60)

    for folder in (data / "spool",):
        assert (folder.stat().st_mode & 0o777) == 0o700
        for f in folder.iterdir():
            assert (f.stat().st_mode & 0o777) == 0o600, f.name

    template = world["template"]
    assert isinstance(template, bytes)
    needles: list[tuple[str, bytes]] = [("base64 JPEG", b"/9j/")]
    for ref in REFS:
        needles += [(f"reference {ref}", ref.encode()), (f"reference {ref} (utf-16)", ref.encode("utf-16-le"))]
    needles += [("template bytes", template[:32]), ("template base64", base64.b64encode(template)[:40])]
    scanned = 0
    found: list[str] = []
    for path in every_file(data, work, tmp):
        blob = path.read_bytes()
        scanned += 1
        for sig in IMAGE_SIGNATURES:
            if sig.search(blob):
                found.append(f"{path.relative_to(path.parents[1])}: image {sig.pattern[:8]!r}")
        for what, needle in needles:
            if needle in blob:
                found.append(f"{path.relative_to(path.parents[1])}: {what}")
    assert scanned >= 4  # the database, its key, the alert file, the spools
    assert found == []


def test_uploads_are_parsed_in_memory_and_one_over_the_limit_is_refused_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A spooled upload is an unlinked temp file (invisible to a folder scan, still plaintext on
    the disk): every temp file created while uploading is recorded instead."""
    import tempfile

    from overt.api.app import create_app
    from overt.api.settings import ApiSettings
    from overt.api.testing import ServerThread

    created: list[str] = []
    real = tempfile.TemporaryFile

    def recording(*args: object, **kwargs: object) -> object:
        created.append("TemporaryFile")
        return real(*args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(tempfile, "TemporaryFile", recording)
    store = init_data_dir(tmp_path / "data")
    make_users(store)
    app = create_app(
        ApiSettings(data_dir=tmp_path / "data", secure_cookies=False, max_upload_bytes=8 * 1024 * 1024), store=store
    )
    server = ServerThread(app).start()
    try:
        running = Running(server.url, store, tmp_path / "data", server)
        wm = running.login("wm")
        r = upload_entry(wm, REFS[0], padded_jpeg(1536 * 1024))  # over Starlette's 1 MB spool threshold
        assert r.status_code == 201, r.text
        r = upload_entry(wm, REFS[1], padded_jpeg(7 * 1024 * 1024), confirm_duplicate_of=1)
        assert r.status_code == 201, r.text
        r = upload_entry(wm, REFS[2], padded_jpeg(9 * 1024 * 1024))  # over the 8 MB limit
        assert r.status_code == 413
        assert "too large" in r.json()["detail"]
        wm.close()
        assert created == []
    finally:
        server.stop()
        store.db.dispose()
