from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from overt.cli.app import main
from overt.config import build_engine
from overt.pipeline.synthetic import SyntheticClip, face_patches
from overt.vision.engine import FaceEngine
from tests.pipeline.conftest import altered


@pytest.fixture(scope="module")
def engine() -> FaceEngine:
    return build_engine()


def make_inputs(
    tmp_path: Path, yaoming_bgr: npt.NDArray[np.uint8], engine: FaceEngine, seconds: float
) -> tuple[Path, Path]:
    wl = tmp_path / "wl" / "subject-001"
    wl.mkdir(parents=True)
    cv2.imwrite(str(wl / "1.jpg"), altered(yaoming_bgr))
    patch = face_patches(yaoming_bgr, engine.detect(yaoming_bgr))[0]
    clip = SyntheticClip(640, 360, 10, seconds, [], patch, target_from_s=0.2, target_face_px=(80, 110))
    return tmp_path / "wl", clip.write(tmp_path / "clip.mp4")


def test_watch_writes_alerts_and_a_json_summary(
    tmp_path: Path, yaoming_bgr: npt.NDArray[np.uint8], engine: FaceEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    wl, clip = make_inputs(tmp_path, yaoming_bgr, engine, 2.0)
    jsonl = tmp_path / "out" / "alerts.jsonl"
    ann = tmp_path / "out" / "annotated.mp4"
    code = main(
        [
            "watch",
            "--source",
            str(clip),
            "--watchlist",
            str(wl),
            "--alerts-jsonl",
            str(jsonl),
            "--annotate",
            str(ann),
            "--json",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["counters"]["alerts"] == 1
    assert summary["counters"]["frames"] == 20
    assert summary["interrupted"] is False
    row = json.loads(jsonl.read_text().splitlines()[0])
    for key in ("subject", "similarity", "camera", "track_id", "frame_index", "pts_s", "alerted_at"):
        assert key in row
    assert row["subject"] == "subject-001"
    assert row["camera"] == "cam-1"
    assert ann.is_file()
    assert ann.stat().st_size > 0


def test_watch_prints_alert_lines_and_summary(
    tmp_path: Path, yaoming_bgr: npt.NDArray[np.uint8], engine: FaceEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    wl, clip = make_inputs(tmp_path, yaoming_bgr, engine, 1.5)
    code = main(
        [
            "watch",
            "--source",
            str(clip),
            "--source",
            str(clip),
            "--watchlist",
            str(wl),
            "--alerts-jsonl",
            str(tmp_path / "a.jsonl"),
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert captured.out.count("ALERT ") == 2  # one per camera
    assert "finished" in captured.err
    assert "2 alert(s)" in captured.err


def test_watch_bad_source_is_one_line_error(
    tmp_path: Path, yaoming_bgr: npt.NDArray[np.uint8], engine: FaceEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    wl, _ = make_inputs(tmp_path, yaoming_bgr, engine, 0.5)
    code = main(
        [
            "watch",
            "--source",
            str(tmp_path / "missing.mp4"),
            "--watchlist",
            str(wl),
            "--alerts-jsonl",
            str(tmp_path / "a.jsonl"),
        ]
    )
    assert code == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("overt: error:")
    assert "not found" in err[-1]


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_with_exit_130(
    tmp_path: Path, yaoming_bgr: npt.NDArray[np.uint8], engine: FaceEngine
) -> None:
    wl, clip = make_inputs(tmp_path, yaoming_bgr, engine, 60.0)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "overt",
            "watch",
            "--source",
            str(clip),
            "--realtime",
            "--watchlist",
            str(wl),
            "--alerts-jsonl",
            str(tmp_path / "a.jsonl"),
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (tmp_path / "a.jsonl").exists():
            time.sleep(0.2)
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err.decode()
    summary = json.loads(out)
    assert summary["interrupted"] is True
    assert summary["counters"]["frames"] < 600
