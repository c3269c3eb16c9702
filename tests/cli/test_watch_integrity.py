"""``overt watch``: camera health in the status line and every camera's integrity counters in --json."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from overt.cli.app import main
from overt.cli.watch import status_line
from overt.pipeline.counters import CounterBoard
from overt.sources.integrity import IntegrityFlag, IntegrityStatus
from overt.vision.engine import FaceEngine
from tests.cli.test_watch_cli import engine, make_inputs  # noqa: F401  (module fixture)


def _with_frozen_start(clip: Path, out: Path, seconds: float = 4.0) -> Path:
    cap = cv2.VideoCapture(str(clip))
    frames: list[npt.NDArray[np.uint8]] = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(np.asarray(f, np.uint8))
    cap.release()
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (w, h))
    for f in [frames[0]] * int(seconds * 10) + frames:
        writer.write(f)
    writer.release()
    return out


def test_watch_json_reports_every_cameras_integrity(
    tmp_path: Path,
    yaoming_bgr: npt.NDArray[np.uint8],
    engine: FaceEngine,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    wl, clip = make_inputs(tmp_path, yaoming_bgr, engine, 2.0)
    frozen = _with_frozen_start(clip, tmp_path / "frozen.avi")
    jsonl = tmp_path / "alerts.jsonl"
    argv = ["watch", "--source", str(frozen), "--source", str(clip), "--watchlist", str(wl)]
    code = main([*argv, "--alerts-jsonl", str(jsonl), "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    cams = {c["camera"]: c for c in summary["integrity"]}
    assert set(cams) == {"cam-1", "cam-2"}
    assert cams["cam-1"]["counters"]["frozen"] == 1
    assert "frozen" in cams["cam-1"]["flags"]
    assert cams["cam-2"]["flags"] == []
    assert not cams["cam-2"]["suspect"]
    assert set(cams["cam-2"]["counters"]) == {"frozen", "loop", "timestamp", "stream_change", "covered", "moved"}
    rows = [json.loads(line) for line in jsonl.read_text().splitlines()]
    by_cam = {r["camera"]: r for r in rows}
    assert "frozen" in by_cam["cam-1"]["integrity_flags"]  # raised while the camera was suspect
    assert by_cam["cam-2"]["integrity_flags"] == []


def test_status_line_shows_camera_health() -> None:
    c = CounterBoard(2).snapshot()
    flags = (IntegrityFlag("frozen", True, 1, 3.0), IntegrityFlag("loop", True, 1, 3.0))
    ok = IntegrityStatus("cam-2", 10, (IntegrityFlag("frozen", False, 0, None),))
    text = status_line(c, [IntegrityStatus("cam-1", 10, flags), ok]).plain
    assert "health cam-1 FROZEN+LOOP, cam-2 ok" in text
