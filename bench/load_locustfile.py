"""The locust users of ``bench/load.py`` (run by it as ``locust --headless -f``; never on its own).

Three kinds, fixed counts, spread round-robin over the API processes named in the config file
(``$OVERT_LOAD_CONFIG``, written by ``bench/load.py``):

- ``Operator``: polls ``GET /api/v1/alerts`` every 2 s with an operator's session cookie;
- ``Console``: holds ``/api/v1/ws/alerts`` open; each pushed alert is recorded (id, arrival time)
  and its ingest -> push latency reported as the ``WS push`` kind; on a close (e.g. 1013: it fell
  behind) it reconnects and fetches what it missed by ``after_id``, as the console does;
- ``EdgeNode``: posts a genuine device alert (entry in the snapshot, similarity over the threshold,
  time inside the window, small JPEG crop) every 0.2 s with its deployment's device token, for
  ``ingest_s`` seconds, then stops by itself (the consoles keep listening through the drain period
  until the run ends, so a late delivery is told from a lost one).

At test stop, what each user saw is written to ``$OVERT_LOAD_OUT`` so that ``bench/load.py`` can
count the alerts lost (acknowledged but not stored exactly once, or not pushed to a console).
"""

from __future__ import annotations

import itertools
import json
import os
import time
import uuid
from datetime import datetime
from typing import Any

import httpx
import websocket  # websocket-client (installed with locust; gevent-friendly)
from locust import HttpUser, User, constant, constant_pacing, events, task
from locust.env import Environment
from tests.api.helpers import alert_body

CONFIG: dict[str, Any] = json.loads(open(os.environ["OVERT_LOAD_CONFIG"]).read())  # noqa: SIM115
HOSTS: list[str] = CONFIG["hosts"]
COOKIE: str = CONFIG["cookie_name"]
_host = itertools.count()
_session = itertools.count()
_edge = itertools.count()

ACKED: dict[str, dict[str, float | int]] = {}  # remote uuid -> {"id", "t"} (wall clock of the answer)
CONSOLES: list[dict[str, Any]] = []  # see Console.record


def _next_host() -> str:
    return HOSTS[next(_host) % len(HOSTS)]


def _next_session() -> dict[str, str]:
    sessions: list[dict[str, str]] = CONFIG["sessions"]
    return sessions[next(_session) % len(sessions)]


class Operator(HttpUser):
    fixed_count = CONFIG["operators"]
    wait_time = constant_pacing(2.0)

    def __init__(self, environment: Environment) -> None:
        self.host = _next_host()
        super().__init__(environment)  # type: ignore[no-untyped-call]
        s = _next_session()
        self.client.cookies.set(COOKIE, s["cookie"])

    @task
    def poll(self) -> None:
        self.client.get("/api/v1/alerts?limit=50", name="GET /alerts (operator poll)")


class Console(User):
    """One operator's screen, as ``console.js`` behaves: on any close it reconnects and fetches the
    alerts it missed with ``GET /alerts?after_id=<last seen>`` (once the socket is open again)."""

    fixed_count = CONFIG["consoles"]
    wait_time = constant(0)

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.url = _next_host()
        self.session = _next_session()
        # got: alert id -> wall time it arrived on the socket; fetched: ids caught up by after_id
        self.record: dict[str, Any] = {
            "connected_t": None,
            "closed_t": None,
            "got": {},
            "fetched": [],
            "closes": {},
            "reconnects": 0,
        }
        CONSOLES.append(self.record)

    def _fire(self, name: str, ms: float, exc: Exception | None = None) -> None:
        self.environment.events.request.fire(
            request_type="WS", name=name, response_time=ms, response_length=0, exception=exc, context={}
        )

    def _connect(self) -> websocket.WebSocket | None:
        host = self.url.split("://", 1)[1]
        t0 = time.perf_counter()
        try:
            ws = websocket.create_connection(
                f"ws://{host}/api/v1/ws/alerts",
                header=[f"Cookie: {COOKIE}={self.session['cookie']}"],
                origin=self.url,
                timeout=10,
            )
        except Exception as e:
            self._fire("connect", (time.perf_counter() - t0) * 1000, e)
            return None
        self._fire("connect", (time.perf_counter() - t0) * 1000)
        return ws

    def _catch_up(self) -> None:
        got: dict[int, float] = self.record["got"]
        last = max([*got, *self.record["fetched"], 0])
        t0 = time.perf_counter()
        try:
            r = httpx.get(
                f"{self.url}/api/v1/alerts",
                params={"after_id": last, "limit": 1000},
                cookies={COOKIE: self.session["cookie"]},
                timeout=30,
            )
            r.raise_for_status()
        except Exception as e:
            self._fire("catch-up (after_id)", (time.perf_counter() - t0) * 1000, e)
            return
        self._fire("catch-up (after_id)", (time.perf_counter() - t0) * 1000)
        self.record["fetched"] += [int(a["id"]) for a in r.json() if int(a["id"]) not in got]

    @task
    def listen(self) -> None:
        deadline = time.time() + CONFIG["run_s"] + 10  # bounded: the run stops it first
        got: dict[int, float] = self.record["got"]
        while time.time() < deadline:
            ws = self._connect()
            if ws is None:
                time.sleep(1)
                continue
            if self.record["connected_t"] is None:
                self.record["connected_t"] = time.time()
            else:
                self.record["reconnects"] += 1
                self._catch_up()
            ws.settimeout(1.0)
            try:
                while time.time() < deadline:
                    try:
                        op, frame = ws.recv_data_frame(control_frame=True)
                    except websocket.WebSocketTimeoutException:
                        continue
                    if op == websocket.ABNF.OPCODE_CLOSE:
                        code = str(int.from_bytes(frame.data[:2], "big")) if len(frame.data) >= 2 else "none"
                        self.record["closes"][code] = self.record["closes"].get(code, 0) + 1
                        break
                    if op != websocket.ABNF.OPCODE_TEXT:
                        continue
                    msg = json.loads(frame.data)
                    if msg.get("type") != "alert":
                        continue
                    alert = msg["alert"]
                    got.setdefault(int(alert["id"]), time.time())
                    raised = datetime.fromisoformat(alert["raised_at"]).timestamp()
                    self._fire("push (ingest -> console)", max(0.0, time.time() - raised) * 1000)
            except Exception as e:
                self.record["closes"]["error"] = self.record["closes"].get("error", 0) + 1
                self._fire("dropped", 0.0, e)
            finally:
                ws.close()
        self.record["closed_t"] = time.time()


class EdgeNode(HttpUser):
    fixed_count = CONFIG["edges"]
    wait_time = constant_pacing(1.0 / CONFIG["alerts_per_s"])

    def __init__(self, environment: Environment) -> None:
        self.host = _next_host()
        super().__init__(environment)  # type: ignore[no-untyped-call]
        n = next(_edge)
        edge = CONFIG["edge_nodes"][n % len(CONFIG["edge_nodes"])]
        self.client.headers["Authorization"] = f"Bearer {edge['token']}"
        self.entry = int(edge["entry"])
        self.camera = f"cam-{n}"
        self.stop_at = time.time() + CONFIG["ingest_s"]

    @task
    def ingest(self) -> None:
        if time.time() >= self.stop_at:  # bounded: stops ingesting by itself
            time.sleep(1.0)
            return
        remote = uuid.uuid4().hex[:12]
        body = alert_body(self.entry, alert_id=remote)  # a genuine device alert, as the tests build it
        body["camera"] = self.camera
        with self.client.post(
            "/api/v1/ingest/alerts", json=body, name="POST /ingest/alerts (edge)", catch_response=True
        ) as r:
            if r.status_code in (200, 201):
                ACKED[remote] = {"id": int(r.json()["alert_id"]), "t": time.time()}
                r.success()
            else:
                r.failure(f"{r.status_code}: {r.text[:200]}")


@events.test_stop.add_listener  # type: ignore[untyped-decorator]
def _dump(**_: Any) -> None:
    with open(os.environ["OVERT_LOAD_OUT"], "w") as f:
        json.dump({"acked": ACKED, "consoles": CONSOLES}, f)
