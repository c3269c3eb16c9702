"""Bodies are bounded before authentication: 20 concurrent anonymous 1 GB uploads against a real
``overt serve`` on 127.0.0.1.

``python bench/body_limit.py``. Starts ``overt init`` + ``overt serve`` (a subprocess, its own
``TMPDIR``), measures the server's idle RSS (the baseline, same run), then sends, 20 at a time:

* ``multipart, Content-Length: 1 GB``: a watch-list upload, anonymous;
* ``multipart, chunked``: the same without a length (1 GB streamed in 64 KiB chunks);
* ``JSON, Content-Length: 200 MB``: the issue's second attack, to a public route (login).

Bodies are generated (one 64 KiB buffer sent again and again), never materialised. A sampler
reads the server's VmRSS from /proc and the size of its temp folder every 20 ms. Reports peak
RSS minus idle, bytes the clients got onto the wire before the server closed, the answers and the
temp folder's peak size. Writes bench/results/body_limit.json.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from overt.api.testing import free_port

GB = 1024**3
CONCURRENT = 20
CHUNK = b"x" * 65536
PASSWORD = "bench-admin-pass-phrase"


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def dir_bytes(d: Path) -> int:
    total = 0
    for root, _, files in os.walk(d):
        for f in files:
            with contextlib.suppress(OSError):
                total += (Path(root) / f).stat().st_size
    return total


class Sampler(threading.Thread):
    def __init__(self, pid: int, tmp: Path) -> None:
        super().__init__(daemon=True)
        self.pid, self.tmp = pid, tmp
        self.peak_rss = 0
        self.peak_tmp = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak_rss = max(self.peak_rss, rss_bytes(self.pid))
            self.peak_tmp = max(self.peak_tmp, dir_bytes(self.tmp))
            time.sleep(0.02)


def one_upload(port: int, head: bytes, total: int, chunked: bool) -> tuple[int, int]:
    """(HTTP status or 0, bytes of body the client got onto the wire)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head)
        try:
            while sent < total:
                if chunked:
                    s.sendall(b"%x\r\n" % len(CHUNK) + CHUNK + b"\r\n")
                else:
                    s.sendall(CHUNK)
                sent += len(CHUNK)
        except OSError:
            pass  # the server answered and closed the connection
        data = b""
        try:
            while b"\r\n" not in data:
                got = s.recv(4096)
                if not got:
                    break
                data += got
        except OSError:
            pass
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, sent


def attack(port: int, name: str, head: bytes, total: int, chunked: bool, pid: int, tmp: Path) -> dict[str, Any]:
    sampler = Sampler(pid, tmp)
    sampler.start()
    results: list[tuple[int, int]] = []
    lock = threading.Lock()

    def worker() -> None:
        r = one_upload(port, head, total, chunked)
        with lock:
            results.append(r)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(CONCURRENT)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    time.sleep(0.2)
    sampler.stop.set()
    sampler.join()
    return {
        "attack": name,
        "concurrent": CONCURRENT,
        "declared_bytes_each": total,
        "statuses": sorted({s for s, _ in results}),
        "max_bytes_sent_each": max(b for _, b in results),
        "wall_s": round(wall, 3),
        "peak_rss_mb": round(sampler.peak_rss / 2**20, 1),
        "peak_tmp_bytes": sampler.peak_tmp,
    }


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="overt-bench-body-"))
    data, tmp = root / "data", root / "tmp"
    tmp.mkdir()
    env = {**os.environ, "OVERT_PASSWORD": PASSWORD, "TMPDIR": str(tmp)}
    env.pop("OVERT_DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "overt", "init", "--data-dir", str(data), "--admin", "admin"],
        env=env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "overt", "serve", "--data-dir", str(data), "--port", str(port), "--insecure-cookies"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("overt serve did not start")
            time.sleep(0.1)
        # warm up: a few ordinary requests, then the idle baseline
        for _ in range(5):
            httpx.get(f"http://127.0.0.1:{port}/api/v1/auth/csrf")
        time.sleep(0.5)
        idle = max(rss_bytes(proc.pid) for _ in range(5))
        upload = (
            b"POST /api/v1/watchlist/entries HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        )
        runs = [
            attack(
                port,
                "multipart, Content-Length: 1 GB",
                upload + b"Content-Length: %d\r\n\r\n" % GB,
                GB,
                False,
                proc.pid,
                tmp,
            ),
            attack(
                port,
                "multipart, chunked, 1 GB",
                upload + b"Transfer-Encoding: chunked\r\n\r\n",
                GB,
                True,
                proc.pid,
                tmp,
            ),
            attack(
                port,
                "JSON login, Content-Length: 200 MB",
                b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + b"Content-Length: %d\r\n\r\n" % (200 * 2**20),
                200 * 2**20,
                False,
                proc.pid,
                tmp,
            ),
        ]
        alive = httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    measured: list[dict[str, Any]] = [
        {**r, "rss_over_idle_mb": round(r["peak_rss_mb"] - idle / 2**20, 1)} for r in runs
    ]
    out = {
        "idle_rss_mb": round(idle / 2**20, 1),
        "runs": measured,
        "server_alive_after": alive,
        "tmp_bytes_after": dir_bytes(tmp),
    }
    print(
        f"idle RSS {out['idle_rss_mb']} MB; server alive after: {alive}; temp folder after: {out['tmp_bytes_after']} B"
    )
    for r in measured:
        print(
            f"{r['attack']:<36} x{r['concurrent']}: answers {r['statuses']}, peak RSS +{r['rss_over_idle_mb']} MB, "
            f"<= {r['max_bytes_sent_each'] / 2**20:.1f} MiB sent each, temp peak {r['peak_tmp_bytes']} B, "
            f"{r['wall_s']} s"
        )
    res = Path(__file__).parent / "results"
    res.mkdir(exist_ok=True)
    (res / "body_limit.json").write_text(json.dumps(out, indent=2) + "\n")
    ok = alive and all(r["rss_over_idle_mb"] <= 50 and r["peak_tmp_bytes"] == 0 for r in measured)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
