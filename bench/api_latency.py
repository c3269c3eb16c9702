"""API benchmarks: request latency and alert push latency (raised -> WebSocket), on a real server.

Baseline in the same run: ``GET /api/v1/health`` (no auth, no database). Push latency is
measured two ways: an edge device posts an alert (in-process notify) and an alert is written
straight into the store as another process would (found by polling every ``alert_poll_s``).
Run: ``.venv/bin/python bench/api_latency.py [--n 200] [--write]`` (``--write`` updates BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import re
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from PIL import Image
from websockets.sync.client import connect

from overt.api.app import create_app
from overt.api.security import SESSION_COOKIE
from overt.api.settings import ApiSettings
from overt.api.testing import ServerThread
from overt.domain.users import Role
from overt.store.datadir import init_data_dir
from overt.users.service import UserService

ROOT = Path(__file__).resolve().parents[1]


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def login(url: str, name: str, pw: str) -> httpx.Client:
    c = httpx.Client(base_url=url, timeout=30)
    csrf = c.get("/api/v1/auth/csrf").json()["csrf_token"]
    r = c.post("/api/v1/auth/login", json={"username": name, "password": pw}, headers={"X-CSRF-Token": csrf})
    r.raise_for_status()
    c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return c


def jpeg() -> str:
    buf = io.BytesIO()
    Image.new("RGB", (112, 112), (120, 90, 60)).save(buf, "JPEG")
    return base64.b64encode(buf.getvalue()).decode()


def body(crop: str) -> dict[str, object]:
    return {
        "alert_id": uuid.uuid4().hex[:16],
        "subject": "1",
        "similarity": 0.7,
        "camera": "cam-1",
        "track_id": 1,
        "alerted_at": datetime.now(UTC).isoformat(),
        "quality": {"size_px": 96, "det_score": 0.9, "sharpness": 120, "yaw_deg": 2, "roll_deg": 1},
        "probe_crop_jpeg_b64": crop,
    }


def timed(fn: object, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = fn()  # type: ignore[operator]
        out.append((time.perf_counter() - t0) * 1000)
        if r.status_code >= 400:
            raise SystemExit(f"request failed: {r.status_code} {r.text[:200]}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    n = args.n
    with tempfile.TemporaryDirectory() as tmp:
        store = init_data_dir(Path(tmp) / "data")
        users = UserService(store)
        admin = users.create_first_admin("admin", "admin-password")
        users.add(admin, "op", Role.OPERATOR, "op-password")
        users.add(admin, "officer", Role.AUTHORISING_OFFICER, "officer-password")
        settings = ApiSettings(data_dir=Path(tmp) / "data", secure_cookies=False, alert_poll_s=0.25)
        server = ServerThread(create_app(settings, store=store)).start()
        url = server.url
        try:
            op = login(url, "op", "op-password")
            start = datetime.now(UTC) - timedelta(minutes=1)
            plan = {
                "purpose": "bench",
                "legal_basis": "bench",
                "place": "bench",
                "planned_start": start.isoformat(),
                "planned_end": (start + timedelta(hours=2)).isoformat(),
                "criteria": "bench",
                "categories": ["wanted_by_court"],
                "min_similarity": 0.45,
                "threshold_justification": "bench",
            }
            dep = op.post("/api/v1/deployments", json=plan).json()["id"]
            officer = login(url, "officer", "officer-password")
            officer.post(f"/api/v1/deployments/{dep}/authorise").raise_for_status()
            op.post(f"/api/v1/deployments/{dep}/publish-notice").raise_for_status()
            late = {"reason": "benchmark: urgent start"}
            officer.post(f"/api/v1/deployments/{dep}/late-start", json=late).raise_for_status()
            op.post(f"/api/v1/deployments/{dep}/start").raise_for_status()
            adm = login(url, "admin", "admin-password")
            tok = adm.post("/api/v1/tokens", json={"name": "bench", "kind": "device", "deployment_id": dep}).json()
            dev = httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {tok['token']}"})
            crop = jpeg()
            anon = httpx.Client(base_url=url, timeout=30)
            results: dict[str, list[float]] = {}
            results["GET /api/v1/health (baseline)"] = timed(lambda: anon.get("/api/v1/health"), n)
            results["POST /api/v1/ingest/alerts (device token)"] = timed(
                lambda: dev.post("/api/v1/ingest/alerts", json=body(crop)), n
            )
            results["GET /api/v1/alerts (session, 100 newest)"] = timed(lambda: op.get("/api/v1/alerts?limit=100"), n)
            results["GET /api/v1/deployments (session)"] = timed(lambda: op.get("/api/v1/deployments"), n)
            results["GET /api/v1/alerts/{id}/crop.jpg (decrypt + audit)"] = timed(
                lambda: op.get("/api/v1/alerts/1/crop.jpg"), n
            )
            # push latency
            host = url.split("://", 1)[1]
            sid = op.cookies[SESSION_COOKIE]
            push_ingest: list[float] = []
            push_poll: list[float] = []
            with connect(
                f"ws://{host}/api/v1/ws/alerts", additional_headers={"Cookie": f"{SESSION_COOKIE}={sid}", "Origin": url}
            ) as ws:
                for _ in range(min(n, 50)):
                    t0 = time.perf_counter()
                    dev.post("/api/v1/ingest/alerts", json=body(crop)).raise_for_status()
                    while json.loads(ws.recv(timeout=10))["type"] != "alert":
                        pass
                    push_ingest.append((time.perf_counter() - t0) * 1000)
                for _ in range(min(n, 20)):
                    t0 = time.perf_counter()
                    with store.transaction() as tx:
                        tx.alerts.add(
                            deployment_id=dep,
                            camera_id="cam-9",
                            entry_id=None,
                            similarity=0.6,
                            raised_at=datetime.now(UTC),
                        )
                    while json.loads(ws.recv(timeout=10))["type"] != "alert":
                        pass
                    push_poll.append((time.perf_counter() - t0) * 1000)
            results["push: ingest POST -> WebSocket message"] = push_ingest
            results["push: store write by another process -> WebSocket (poll 0.25 s)"] = push_poll
        finally:
            server.stop()
            store.db.dispose()
    base = statistics.median(results["GET /api/v1/health (baseline)"])
    lines = [
        "<!-- api:start -->",
        "## API and alert push (bench/api_latency.py)",
        "",
        f"Real uvicorn server on loopback, SQLite data directory, httpx client, {n} requests each "
        "(push: 50 and 20 alerts). Ratios against `GET /api/v1/health` measured in the same run.",
        "",
        "| what | p50 ms | p95 ms | p50 / baseline |",
        "|---|---:|---:|---:|",
    ]
    for k, xs in results.items():
        lines.append(
            f"| {k} | {statistics.median(xs):.1f} | {pct(xs, 0.95):.1f} | {statistics.median(xs) / base:.1f}x |"
        )
    lines += [
        "",
        "The browser figure (alert raised -> card on screen) comes from tests/web (artifacts/e2e-latency.json).",
        "<!-- api:end -->",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        p = ROOT / "BENCHMARKS.md"
        old = p.read_text(encoding="utf-8")
        if "<!-- api:start -->" in old:
            new = re.sub(r"<!-- api:start -->.*?<!-- api:end -->", lambda _m: text, old, flags=re.S)
        else:
            new = old.rstrip("\n") + "\n\n" + text + "\n"
        p.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
