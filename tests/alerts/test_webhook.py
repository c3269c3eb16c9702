"""The webhook sink against a real HTTP server on localhost (http.server in a thread)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from overt.alerts import WebhookSink
from overt.alerts.spool import EncryptedSpool, KeyCipher
from overt.errors import ConfigError
from tests.alerts.conftest import make_alert


class Receiver:
    """A real HTTP server that answers 503 to the first ``fail_first`` posts, then 200."""

    def __init__(self, fail_first: int = 0, port: int = 0) -> None:
        self.fail_first = fail_first
        self.attempts = 0
        self.received: list[dict[str, object]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.attempts += 1
                if outer.attempts <= outer.fail_first:
                    self.send_response(503)
                    self.end_headers()
                    return
                outer.received.append(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/alerts"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(fail_first=2)
    yield r
    r.close()


def wait_for(cond: object, timeout_s: float = 10.0) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if cond():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


KEY = bytes(range(32))


def enc(path: Path) -> EncryptedSpool:
    return EncryptedSpool(path, KeyCipher(KEY))


def test_retries_until_the_server_accepts(tmp_path: Path, receiver: Receiver) -> None:
    sink = WebhookSink(receiver.url, enc(tmp_path / "spool.jsonl"), backoff_s=0.05, max_attempts=4, timeout_s=2)
    sink.emit(make_alert("x1"))
    assert wait_for(lambda: len(receiver.received) == 1)
    sink.close()
    assert receiver.attempts == 3  # two 503s, then delivered
    assert receiver.received[0]["alert_id"] == "x1"
    assert receiver.received[0]["subject"] == "subject-7"
    assert sink.stats().delivered == 1
    assert sink.stats().spooled == 0
    assert sink.spool_size() == 0


def test_server_down_alert_is_spooled_then_delivered_later(tmp_path: Path) -> None:
    port = free_port()
    spool = tmp_path / "spool.jsonl"
    url = f"http://127.0.0.1:{port}/alerts"
    sink = WebhookSink(url, enc(spool), backoff_s=0.02, max_attempts=2, timeout_s=1, spool_retry_s=0.2)
    sink.emit(make_alert("down-1"))
    assert wait_for(lambda: sink.stats().spooled == 1)
    assert sink.spool_size() == 1
    line = json.loads(spool.read_text().splitlines()[0])
    assert line["id"] == "down-1"
    assert "subject-7" not in spool.read_text()  # sealed
    assert (spool.stat().st_mode & 0o777) == 0o600
    assert (spool.parent.stat().st_mode & 0o777) == 0o700
    assert [r.alert_id for r in enc(spool).read()] == ["down-1"]
    # The server comes up: the spool is retried by the running sink.
    r = Receiver(port=port)
    try:
        assert wait_for(lambda: len(r.received) == 1)
        assert r.received[0]["alert_id"] == "down-1"
        assert wait_for(lambda: sink.spool_size() == 0)
    finally:
        sink.close()
        r.close()


def test_queued_alerts_are_spooled_at_close_and_sent_by_the_next_sink(tmp_path: Path) -> None:
    port = free_port()
    spool = tmp_path / "spool.jsonl"
    url = f"http://127.0.0.1:{port}/alerts"
    sink = WebhookSink(url, enc(spool), backoff_s=5.0, max_attempts=3, timeout_s=1)
    for i in range(3):
        sink.emit(make_alert(f"q{i}"))
    sink.close(timeout_s=2)
    assert sink.spool_size() == 3  # nothing dropped
    r = Receiver(port=port)
    try:
        nxt = WebhookSink(url, enc(spool), timeout_s=1)
        assert wait_for(lambda: len(r.received) == 3)
        assert sorted(x["alert_id"] for x in r.received) == ["q0", "q1", "q2"]  # type: ignore[type-var]
        nxt.close()
        assert nxt.spool_size() == 0
    finally:
        r.close()


def test_rejects_bad_urls(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        WebhookSink("file:///etc/passwd", enc(tmp_path / "s.jsonl"))
    with pytest.raises(ConfigError):
        WebhookSink("http://", enc(tmp_path / "s.jsonl"))


def test_bodies_carry_crops_only_when_asked(tmp_path: Path, receiver: Receiver) -> None:
    receiver.fail_first = 0
    plain = WebhookSink(receiver.url, enc(tmp_path / "a.jsonl"), timeout_s=2)
    plain.emit(make_alert("no-crop"))
    assert wait_for(lambda: len(receiver.received) == 1)
    plain.close()
    assert "probe_crop_jpeg_b64" not in receiver.received[0]
    asked = WebhookSink(receiver.url, enc(tmp_path / "b.jsonl"), timeout_s=2, include_images=True)
    asked.emit(make_alert("crop"))
    assert wait_for(lambda: len(receiver.received) == 2)
    asked.close()
    assert "probe_crop_jpeg_b64" in receiver.received[1]


def test_spool_lines_are_bound_to_their_spool_and_record(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from overt.alerts.spool import SpoolRecord, purge_spools

    a = enc(tmp_path / "spool" / "a.jsonl")
    b = enc(tmp_path / "spool" / "b.jsonl")
    a.append([SpoolRecord("r1", datetime(2026, 1, 1, tzinfo=UTC), '{"subject":"s"}')])
    # A line copied into another spool, or under another id, does not open.
    b.path.write_text(a.path.read_text())
    assert b.read() == []
    assert EncryptedSpool(a.path, KeyCipher(bytes(32))).read() == []  # another data dir's key
    assert [r.body for r in a.read()] == ['{"subject":"s"}']
    assert purge_spools(tmp_path / "spool", datetime(2026, 1, 2, tzinfo=UTC)) == 2
    assert a.count() == 0
