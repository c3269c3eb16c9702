"""The locust users of ``bench/load.py`` (run by it as ``locust --headless -f``; never on its own).

Three kinds, fixed counts, spread round-robin over the API processes named in the config file
(``$OVERT_LOAD_CONFIG``, written by ``bench/load.py``):

- ``Operator``: polls ``GET /api/v1/alerts`` every 2 s with an operator's session cookie;
- ``Console``: holds ``/api/v1/ws/alerts`` open; each pushed alert is recorded (its id) and its
  ingest -> push latency reported as the ``WS push`` kind;
- ``EdgeNode``: posts a genuine device alert (entry in the snapshot, similarity over the threshold,
  time inside the window, small JPEG crop) every 0.2 s with its deployment's device token, for
  ``ingest_s`` seconds, then stops by itself (the consoles keep listening until the run ends).

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
CONSOLES: list[dict[str, Any]] = []  # {"connected_t", "closed_t", "ids"}


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
    fixed_count = CONFIG["consoles"]
    wait_time = constant(0)

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.url = _next_host()
        self.session = _next_session()
        self.record: dict[str, Any] = {"connected_t": None, "closed_t": None, "ids": []}
        CONSOLES.append(self.record)

    def _fire(self, name: str, ms: float, exc: Exception | None = None) -> None:
        self.environment.events.request.fire(
            request_type="WS", name=name, response_time=ms, response_length=0, exception=exc, context={}
        )

    @task
    def listen(self) -> None:
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
            time.sleep(1)
            return
        self._fire("connect", (time.perf_counter() - t0) * 1000)
        self.record["connected_t"] = time.time()
        ws.settimeout(1.0)
        deadline = time.time() + CONFIG["run_s"] + 10  # bounded: the run stops it first
        try:
            while time.time() < deadline:
                try:
                    msg = json.loads(ws.recv())
                except websocket.WebSocketTimeoutException:
                    continue
                if msg.get("type") != "alert":
                    continue
                alert = msg["alert"]
                self.record["ids"].append(int(alert["id"]))
                raised = datetime.fromisoformat(alert["raised_at"]).timestamp()
                self._fire("push (ingest -> console)", max(0.0, time.time() - raised) * 1000)
        except Exception as e:
            self._fire("dropped", 0.0, e)
        finally:
            self.record["closed_t"] = time.time()
            ws.close()
            time.sleep(CONFIG["run_s"] + 10)  # one socket per console for the whole run


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
