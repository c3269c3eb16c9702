"""Edge ingest throughput of one API process: acknowledged alerts/s, this tree vs a baseline tree.

    PYTHONPATH=src python bench/ingest.py --baseline-src /tmp/overt-main/src [--postgres URL]
    PYTHONPATH=src python bench/ingest.py --baseline-src /tmp/overt-main/src --consoles 20   # + fan-out
    PYTHONPATH=src python bench/ingest.py --profile            # where the time goes (this tree only)

Each measurement is a child process: a fresh data directory (SQLite, or a fresh database on the
PostgreSQL cluster of ``--postgres``), the real app under uvicorn on 127.0.0.1, 10 device tokens
(one deployment each) and ``--clients`` threads posting genuine alerts (the tests' ``alert_body``)
as fast as they are answered for ``--seconds``; with ``--consoles N``, N operator sessions hold the
alert WebSocket open meanwhile (and ``--drain`` seconds after): push latency from the edge's
acknowledgement to each console, and deliveries lost. Baseline and this tree alternate, rep by rep, so
load from other processes falls on both; the ratio of medians is the result (BENCHMARKS.md).

``--profile`` samples every thread's stack (``sys._current_frames``, wall clock: waiting on a lock
or the database counts) every 5 ms and prints the functions where samples of the server's threads
land, inclusive, by share.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EDGES = 10
PCT = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))


def _child(a: argparse.Namespace) -> dict[str, Any]:
    sys.path[:0] = [str(ROOT)]
    import httpx
    import psycopg
    from sqlalchemy.engine import make_url
    from tests.api.conftest import Running, make_users
    from tests.api.helpers import active_deployment, alert_body, enrol_yaoming
    from websockets.sync.client import connect as ws_connect

    from overt.api.app import create_app
    from overt.api.pg_notifier import libpq_conninfo
    from overt.api.security import SESSION_COOKIE
    from overt.api.settings import ApiSettings
    from overt.api.testing import ServerThread
    from overt.store.datadir import init_data_dir

    work = Path(tempfile.mkdtemp(prefix="overt-ingest-"))
    db_url = None
    name = "overt_ingest_" + uuid.uuid4().hex[:8]
    if a.postgres:
        with psycopg.connect(libpq_conninfo(a.postgres), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        db_url = make_url(a.postgres).set(database=name).render_as_string(hide_password=False)
    store = init_data_dir(work / "data", database_url_=db_url) if db_url else init_data_dir(work / "data")
    make_users(store)
    server = ServerThread(create_app(ApiSettings(data_dir=work / "data", secure_cookies=False), store=store)).start()
    try:
        r = Running(server.url, store, work / "data", server)
        entry = enrol_yaoming(r)
        admin = r.login("admin")
        tokens = []
        for _ in range(EDGES):
            dep = active_deployment(r)
            got = admin.post("/api/v1/tokens", json={"name": f"edge-{dep}", "kind": "device", "deployment_id": dep})
            tokens.append(got.json()["token"])
        admin.close()
        bodies = [alert_body(entry) for _ in range(64)]  # encoded once: the clients' own cost stays small
        acked: list[float] = []
        acked_at: dict[int, float] = {}
        errors = [0]
        arrivals: list[dict[int, float]] = [{} for _ in range(a.consoles)]
        cookies = []
        for _ in range(a.consoles):
            c = r.login("op")
            cookies.append(c.cookies[SESSION_COOKIE])
            c.close()
        sockets = [
            ws_connect(
                f"ws://{server.url.split('://', 1)[1]}/api/v1/ws/alerts",
                additional_headers={"Cookie": f"{SESSION_COOKIE}={ck}", "Origin": server.url},
            )
            for ck in cookies
        ]

        def console(i: int) -> None:
            with contextlib.suppress(Exception):
                for raw in sockets[i]:
                    msg = json.loads(raw)
                    if msg["type"] == "alert":
                        arrivals[i][int(msg["alert"]["id"])] = time.monotonic()

        stop_at = time.monotonic() + a.warmup + a.seconds
        count_from = time.monotonic() + a.warmup

        def client(i: int) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as c:
                c.headers["Authorization"] = f"Bearer {tokens[i % EDGES]}"
                n = 0
                while time.monotonic() < stop_at:
                    body = {**bodies[n % len(bodies)], "alert_id": uuid.uuid4().hex[:12], "camera": f"cam-{i}"}
                    n += 1
                    resp = c.post("/api/v1/ingest/alerts", json=body)
                    if resp.status_code == 201:
                        acked.append(time.monotonic())
                        acked_at[int(resp.json()["alert_id"])] = acked[-1]
                    else:
                        errors[0] += 1

        sampler = Sampler() if a.profile else None
        threads = [threading.Thread(target=client, args=(i,), name=f"client-{i}") for i in range(a.clients)]
        listeners = [threading.Thread(target=console, args=(i,), name=f"client-ws-{i}") for i in range(a.consoles)]
        for t in [*threads, *listeners]:
            t.start()
        if sampler is not None:
            time.sleep(a.warmup)
            sampler.start()
        for t in threads:
            t.join()
        time.sleep(a.drain)  # the consoles keep listening: late is told from lost
        for ws in sockets:
            ws.close()
        for t in listeners:
            t.join()
        n = sum(1 for t in acked if t >= count_from)
        out: dict[str, Any] = {"alerts_per_s": n / a.seconds, "errors": errors[0], "acked": len(acked)}
        if a.consoles:
            lat = sorted(max(0.0, got[i] - t) * 1000 for got in arrivals for i, t in acked_at.items() if i in got)
            out["push_ms"] = {q: round(lat[min(len(lat) - 1, int(p * len(lat)))]) if lat else None for q, p in PCT}
            out["push_lost"] = len(acked_at) * a.consoles - len(lat)
        if sampler is not None:
            out["profile"] = sampler.stop()
        return out
    finally:
        server.stop()
        store.db.dispose()
        if db_url:
            with psycopg.connect(libpq_conninfo(a.postgres), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Sampler:
    """Wall-clock stack sampling of the server's threads (not the clients' or its own)."""

    def __init__(self, every_s: float = 0.005) -> None:
        self.every_s = every_s
        self.inclusive: collections.Counter[str] = collections.Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> list[tuple[str, float]]:
        self._stop.set()
        self._thread.join()
        return [(k, round(100 * v / max(1, self.samples), 1)) for k, v in self.inclusive.most_common(45)]

    def _run(self) -> None:
        names = {}
        while not self._stop.wait(self.every_s):
            names = {t.ident: t.name for t in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                name = names.get(ident, "")
                if name.startswith(("client-", "sampler", "MainThread")):
                    continue
                self.samples += 1
                seen = set()
                f: Any = frame
                while f is not None:
                    code = f.f_code
                    key = f"{Path(code.co_filename).name}:{code.co_name}"
                    if key not in seen:
                        seen.add(key)
                        self.inclusive[key] += 1
                    f = f.f_back


def _run_child(src: Path, a: argparse.Namespace) -> dict[str, Any]:
    args = [sys.executable, __file__, "--child", "--seconds", str(a.seconds), "--clients", str(a.clients)]
    args += ["--warmup", str(a.warmup), "--consoles", str(a.consoles), "--drain", str(a.drain)] + (
        ["--postgres", a.postgres] if a.postgres else []
    )
    args += ["--profile"] if a.profile else []
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{ROOT}"}
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=a.seconds + a.warmup + 300)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline-src", type=Path, help="the baseline tree's src/ (e.g. `git worktree` of main)")
    ap.add_argument("--postgres", help="a PostgreSQL cluster URL (a fresh database per run); default SQLite")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--consoles", type=int, default=0, help="WebSocket consoles listening (push latency, lost)")
    ap.add_argument("--drain", type=float, default=5.0, help="seconds the consoles listen after the last post")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(_child(a)))
        return
    ours = ROOT / "src"
    trees = [("this tree", ours)] + ([("baseline", a.baseline_src)] if a.baseline_src and not a.profile else [])
    results: dict[str, list[dict[str, Any]]] = {label: [] for label, _ in trees}
    for rep in range(1 if a.profile else a.reps):
        for label, src in trees if rep % 2 == 0 else list(reversed(trees)):
            res = _run_child(src, a)
            results[label].append(res)
            push = f", push ack -> console ms {res['push_ms']}, lost {res['push_lost']}" if a.consoles else ""
            print(f"rep {rep} {label}: {res['alerts_per_s']:.1f} alerts/s, errors {res['errors']}{push}", flush=True)
            if a.profile:
                for fn, share in res["profile"]:
                    print(f"  {share:5.1f} %  {fn}")
    med = {label: statistics.median(r["alerts_per_s"] for r in rs) for label, rs in results.items()}
    summary: dict[str, Any] = {
        "db": "postgresql" if a.postgres else "sqlite",
        "clients": a.clients,
        "consoles": a.consoles,
        "median_alerts_per_s": med,
    }
    if a.consoles:
        summary["median_push_p95_ms"] = {
            label: statistics.median(r["push_ms"]["p95"] or 0 for r in rs) for label, rs in results.items()
        }
        summary["lost"] = {label: sum(r["push_lost"] for r in rs) for label, rs in results.items()}
    if "baseline" in med:
        summary["ratio_vs_baseline"] = round(med["this tree"] / max(1e-9, med["baseline"]), 2)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
