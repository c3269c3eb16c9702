"""Load on the centre: headless locust against 1 and against 3 ``overt serve`` processes on one
PostgreSQL (a private throwaway cluster; every target is 127.0.0.1).

    PYTHONPATH=src python bench/load.py --seconds 45

Per configuration: a fresh database, N API processes, one enrolled entry, 10 active deployments
(one per edge node, each with its device token), 70 operator sessions made beforehand; then
``locust --headless -f bench/load_locustfile.py`` with 50 operators polling alerts every 2 s,
20 WebSocket consoles and 10 edge nodes ingesting 5 genuine alerts/s each for the first 60 % of
``--seconds``; the consoles then keep listening for ``--drain`` more seconds, so that a late
delivery is told from a lost one. Reported: p50/p95/p99 per request kind, errors, push latency
(acknowledgement at the edge -> arrival at the console) p50/p95/p99, and alerts lost: an
acknowledged alert UUID not stored exactly once, or, per console, an alert acknowledged while it
was running that it neither received on its socket nor fetched by ``after_id`` after a reconnect
(what ``console.js`` does when the server closes a socket that fell behind).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
SRC = Path(os.environ.get("OVERT_LOAD_SRC") or ROOT / "src")
"""The tree under test (``OVERT_LOAD_SRC``: e.g. a baseline's ``src/``, same harness)."""
sys.path[:0] = [str(SRC), str(ROOT)]

from tests.api.conftest import Running, make_users  # noqa: E402
from tests.api.helpers import active_deployment, enrol_yaoming  # noqa: E402
from tests.postgres_fixture import private_cluster  # noqa: E402

from overt.api.pg_notifier import libpq_conninfo  # noqa: E402
from overt.api.security import SESSION_COOKIE  # noqa: E402
from overt.api.testing import free_port  # noqa: E402
from overt.domain.users import Role  # noqa: E402
from overt.store.datadir import init_data_dir  # noqa: E402

OPERATORS, CONSOLES, EDGES, ALERTS_PER_S = 50, 20, 10, 5.0
INGEST_SHARE = 0.6  # edge nodes ingest for the first 60 % of the run
EXTRA_OPERATORS = [f"load-op{i:02d}" for i in range(10)]
KINDS = ["GET /alerts (operator poll)", "POST /ingest/alerts (edge)", "connect", "push (ingest -> console)"]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{ROOT}"}


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/api/v1/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def _pct(xs: list[float], q: float) -> float:
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def run_config(cluster_url: str, n_api: int, seconds: float, drain_s: float, work: Path) -> dict[str, Any]:
    name = "overt_load_" + uuid.uuid4().hex[:8]
    admin_info = libpq_conninfo(cluster_url)
    with psycopg.connect(admin_info, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db_url = make_url(cluster_url).set(database=name).render_as_string(hide_password=False)
    data = work / f"data{n_api}"
    store = init_data_dir(data, database_url_=db_url)
    make_users(store)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        ports = [free_port() for _ in range(n_api)]
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        for i, port in enumerate(ports):
            log = (work / f"api{n_api}-{i}.log").open("wb")
            args = ["serve", "--data-dir", str(data), "--port", str(port), "--insecure-cookies"]
            procs.append(subprocess.Popen([sys.executable, "-m", "overt", *args], env=_env(), stdout=log, stderr=log))
        deadline = time.monotonic() + 90
        while not all(_healthy(u) for u in urls):
            assert time.monotonic() < deadline, "API processes did not come up"
            time.sleep(0.2)
        r1 = Running(urls[0], store, data, None)  # type: ignore[arg-type]
        entry = enrol_yaoming(r1)
        deps = [active_deployment(r1) for _ in range(EDGES)]
        admin = r1.login("admin")
        for op_name in EXTRA_OPERATORS:
            r = admin.post(
                "/api/v1/users", json={"name": op_name, "role": Role.OPERATOR.value, "password": "load-pass-phrase"}
            )
            assert r.status_code in (200, 201), r.text
        edges = []
        for dep in deps:
            r = admin.post("/api/v1/tokens", json={"name": f"edge-{dep}", "kind": "device", "deployment_id": dep})
            assert r.status_code == 201, r.text
            edges.append({"token": r.json()["token"], "entry": entry})
        admin.close()
        sessions = []
        for i in range(OPERATORS + CONSOLES):
            who = EXTRA_OPERATORS[i % len(EXTRA_OPERATORS)]
            c = Running(urls[i % n_api], store, data, None).login(who, "load-pass-phrase")  # type: ignore[arg-type]
            sessions.append({"cookie": c.cookies[SESSION_COOKIE]})
            c.close()
        ingest_s = round(seconds * INGEST_SHARE, 1)  # then the consoles drain what is queued
        config = {
            "hosts": urls,
            "cookie_name": SESSION_COOKIE,
            "sessions": sessions,
            "edge_nodes": edges,
            "operators": OPERATORS,
            "consoles": CONSOLES,
            "edges": EDGES,
            "alerts_per_s": ALERTS_PER_S,
            "ingest_s": ingest_s,
            "run_s": seconds + drain_s,
        }
        cfg_path, out_path = work / f"config{n_api}.json", work / f"out{n_api}.json"
        cfg_path.write_text(json.dumps(config))
        prefix = work / f"stats{n_api}"
        users = OPERATORS + CONSOLES + EDGES
        cmd = [
            str(Path(sys.executable).parent / "locust"),
            "--headless",
            "-f",
            str(ROOT / "bench" / "load_locustfile.py"),
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{int(seconds + drain_s)}s",
            "--stop-timeout",
            "5",
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ]
        env = {**_env(), "OVERT_LOAD_CONFIG": str(cfg_path), "OVERT_LOAD_OUT": str(out_path)}
        t_start = time.time()
        lr = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + drain_s + 120)
        if not out_path.exists():
            raise RuntimeError(f"locust failed ({lr.returncode}): {lr.stderr[-3000:]}")
        out = json.loads(out_path.read_text())
        stats = {row["Name"]: row for row in csv.DictReader((prefix.parent / f"{prefix.name}_stats.csv").open())}
        failures = list(csv.DictReader((prefix.parent / f"{prefix.name}_failures.csv").open()))
        # -- alerts lost -----------------------------------------------------------------------
        acked: dict[str, dict[str, float]] = out["acked"]
        ingest_end = min([a["t"] for a in acked.values()] or [t_start]) + ingest_s
        with psycopg.connect(libpq_conninfo(db_url), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT remote_id, count(*) FROM alert_details WHERE remote_id IS NOT NULL GROUP BY remote_id"
            ).fetchall()
        stored = {str(r[0]): int(r[1]) for r in rows}
        not_stored_once = [u for u in acked if stored.get(u) != 1]
        # per console: due = acknowledged while it was running; then delivered on the socket (with
        # ack -> console latency), fetched by after_id after a reconnect, or lost
        due_n = delivered = fetched = missed = late = 0
        push_ms: list[float] = []
        closes: dict[str, int] = {}
        for console in out["consoles"]:
            for code, n in console["closes"].items():
                closes[code] = closes.get(code, 0) + n
            if console["connected_t"] is None:
                missed += len(acked)
                due_n += len(acked)
                continue
            got = {int(k): float(v) for k, v in console["got"].items()}
            caught = set(console["fetched"])
            closed = console["closed_t"] or float("inf")
            for a in acked.values():
                if not console["connected_t"] < a["t"] < closed:
                    continue
                due_n += 1
                aid = int(a["id"])
                if aid in got:
                    delivered += 1
                    push_ms.append(max(0.0, got[aid] - a["t"]) * 1000)
                    late += got[aid] > ingest_end
                elif aid in caught:
                    fetched += 1
                else:
                    missed += 1
        push_ms.sort()
        return {
            "api_processes": n_api,
            "seconds": seconds,
            "ingest_s": ingest_s,
            "offered_alerts": int(ingest_s * ALERTS_PER_S * EDGES),
            "acked": len(acked),
            "stored_rows": sum(stored.values()),
            "not_stored_once": len(not_stored_once),
            "console_due": due_n,
            "console_delivered": delivered,
            "console_fetched_after_reconnect": fetched,
            "console_misses": missed,
            "delivered_after_ingest_ended": late,
            "console_closes": closes,
            "push_ack_to_console_ms": {
                q: round(_pct(push_ms, p)) for q, p in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))
            },
            "consoles_connected": sum(1 for c in out["consoles"] if c["connected_t"] is not None),
            "errors": sum(int(f["Occurrences"]) for f in failures),
            "failures": [(f["Name"], f["Error"][:120], f["Occurrences"]) for f in failures][:5],
            "kinds": {
                k: {
                    "n": int(stats[k]["Request Count"]),
                    "fail": int(stats[k]["Failure Count"]),
                    "rps": round(float(stats[k]["Requests/s"]), 1),
                    "p50": stats[k]["50%"],
                    "p95": stats[k]["95%"],
                    "p99": stats[k]["99%"],
                }
                for k in KINDS
                if k in stats
            },
        }
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        store.db.dispose()
        with psycopg.connect(admin_info, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=45.0, help="locust run time per configuration")
    ap.add_argument(
        "--drain", type=float, default=15.0, help="seconds the consoles keep listening after the run (late vs lost)"
    )
    ap.add_argument("--api", type=int, nargs="+", default=[1, 3], help="API process counts to run")
    ap.add_argument("--json", type=Path, help="also write the results here")
    a = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="overt-load-") as tmp, private_cluster() as cluster:
        for n in a.api:
            res = run_config(cluster.url, n, a.seconds, a.drain, Path(tmp))
            results.append(res)
            print(json.dumps(res, indent=1), flush=True)
    print("\n| API procs | kind | requests | req/s | p50 ms | p95 ms | p99 ms | failures |")
    print("|---|---|---|---|---|---|---|---|")
    for res in results:
        for k, s in res["kinds"].items():
            cells = [res["api_processes"], k, s["n"], s["rps"], s["p50"], s["p95"], s["p99"], s["fail"]]
            print("| " + " | ".join(str(c) for c in cells) + " |")
    for res in results:
        print(
            f"{res['api_processes']} API: acked {res['acked']}, stored rows {res['stored_rows']}, "
            f"not stored exactly once {res['not_stored_once']}, errors {res['errors']}; consoles "
            f"({res['consoles_connected']}/{CONSOLES} connected): due {res['console_due']}, delivered "
            f"{res['console_delivered']} ({res['delivered_after_ingest_ended']} after ingest ended), fetched "
            f"after reconnect {res['console_fetched_after_reconnect']}, LOST {res['console_misses']}; push "
            f"ack -> console ms {res['push_ack_to_console_ms']}; closes {res['console_closes']}"
        )
    if a.json:
        a.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
