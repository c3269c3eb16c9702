"""Edge outbox: an alert leaves only when a centre acknowledges it, trying the centre's
addresses in order (a dead first address fails over to the next)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from overt.alerts import WebhookSink
from tests.alerts.conftest import make_alert
from tests.alerts.test_webhook import enc, free_port, wait_for


class Centre:
    """A real HTTP server answering 201 with ``{"alert_id": n}`` (``ack``) or a bare 200 page."""

    def __init__(self, *, ack: bool) -> None:
        self.received: list[dict[str, object]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                body = json.dumps({"alert_id": len(outer.received)}).encode() if ack else b"<html>ok</html>"
                self.send_response(201 if ack else 200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/ingest/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def centre() -> Iterator[Centre]:
    c = Centre(ack=True)
    yield c
    c.close()


def test_fails_over_to_the_next_centre_address(tmp_path: Path, centre: Centre) -> None:
    dead = f"http://127.0.0.1:{free_port()}/api/v1/ingest/alerts"
    sink = WebhookSink([dead, centre.url], enc(tmp_path / "spool.jsonl"), backoff_s=0.02, timeout_s=1, require_ack=True)
    sink.emit(make_alert())
    assert wait_for(lambda: len(centre.received) == 1)
    sink.close()
    assert sink.stats().delivered == 1
    assert sink.spool_size() == 0


def test_a_2xx_without_acknowledgement_keeps_the_alert_in_the_outbox(tmp_path: Path) -> None:
    portal = Centre(ack=False)  # e.g. a captive portal or a misrouted proxy answering 200
    spool = tmp_path / "spool.jsonl"
    try:
        sink = WebhookSink(portal.url, enc(spool), backoff_s=0.01, max_attempts=2, timeout_s=1, require_ack=True)
        sink.emit(make_alert())
        assert wait_for(lambda: sink.spool_size() == 1)
        sink.close()
        assert len(portal.received) == 2  # it was posted, but not acknowledged
        assert sink.stats().delivered == 0
    finally:
        portal.close()
    centre = Centre(ack=True)
    try:
        nxt = WebhookSink(centre.url, enc(spool), timeout_s=1, spool_retry_s=0.1, require_ack=True)
        assert wait_for(lambda: len(centre.received) == 1)
        assert wait_for(lambda: nxt.spool_size() == 0)
        nxt.close()
    finally:
        centre.close()


def test_write_ahead_outbox_holds_the_alert_before_any_attempt(tmp_path: Path) -> None:
    spool = tmp_path / "outbox.jsonl"
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/v1/ingest/alerts"
    sink = WebhookSink(url, enc(spool), timeout_s=1, spool_retry_s=0.2, require_ack=True, write_ahead=True)
    sink.emit(make_alert())
    assert sink.spool_size() == 1  # sealed in the outbox when emit returns: a kill -9 now loses nothing
    assert "alert" not in spool.read_text()  # sealed, not plaintext JSON
    centre = Centre(ack=True)
    try:
        sink2 = WebhookSink(centre.url, enc(spool), timeout_s=1, spool_retry_s=0.2, require_ack=True, write_ahead=True)
        sink.close()
        assert wait_for(lambda: len(centre.received) >= 1)
        assert wait_for(lambda: sink2.spool_size() == 0)
        sink2.emit(make_alert())  # with the centre up: delivered at once, then removed from the outbox
        assert wait_for(lambda: len(centre.received) >= 2)
        assert wait_for(lambda: sink2.spool_size() == 0)
        sink2.close()
    finally:
        centre.close()
