"""``overt serve`` as a user runs it: init a data directory, serve, log in over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from overt.api.testing import free_port
from overt.cli.app import main


def test_overt_serve_runs_and_logs_in(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "OVERT_PASSWORD": "first-admin-pw"}
    os.environ["OVERT_PASSWORD"] = "first-admin-pw"
    try:
        assert main(["init", "--data-dir", str(data), "--admin", "chief"]) == 0
    finally:
        del os.environ["OVERT_PASSWORD"]
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "overt", "serve", "--data-dir", str(data), "--port", str(port), "--insecure-cookies"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/api/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "overt serve did not come up"
            time.sleep(0.1)
        with httpx.Client(base_url=url) as c:
            csrf = c.get("/api/v1/auth/csrf").json()["csrf_token"]
            r = c.post(
                "/api/v1/auth/login",
                json={"username": "chief", "password": "first-admin-pw"},
                headers={"X-CSRF-Token": csrf},
            )
            assert r.status_code == 200
            assert r.json()["role"] == "admin"
            assert c.get("/api/v1/users").status_code == 200
    finally:
        proc.terminate()
        proc.communicate(timeout=15)


def test_insecure_cookies_refused_off_loopback(tmp_path: Path) -> None:
    rc = main(["serve", "--data-dir", str(tmp_path), "--host", "0.0.0.0", "--insecure-cookies"])
    assert rc != 0


def test_overt_run_edge_mode_needs_a_device_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERT_PASSWORD", "first-admin-pw")
    assert main(["init", "--data-dir", str(tmp_path / "d"), "--admin", "chief"]) == 0
    monkeypatch.delenv("OVERT_DEVICE_TOKEN", raising=False)
    argv = ["run", "--data-dir", str(tmp_path / "d"), "--deployment", "1", "--source", "x.mp4"]
    assert main([*argv, "--server", "https://central.example"]) == 2  # no token: a config error
    monkeypatch.setenv("OVERT_DEVICE_TOKEN", "ovt_x")
    assert main([*argv, "--server", "http://central.example"]) == 2  # plain HTTP off loopback refused
