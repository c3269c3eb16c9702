"""``overt eval video`` through the real live pipeline on clips the test makes from a sample photo."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from overt.cli.app import main
from overt.samples import sample_image
from overt.vision.imageio import read_image


def _clip(path: Path, frame: np.ndarray, n: int = 30, fps: float = 25.0) -> Path:
    h, w = frame.shape[:2]
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
    assert vw.isOpened()
    for i in range(n):
        shifted = np.roll(frame, i % 5, axis=1)  # a little motion
        vw.write(np.ascontiguousarray(shifted))
    vw.release()
    return path


def test_eval_video_true_alert_and_empty_clip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    img = read_image(sample_image("yaoming"))
    scale = 480 / max(img.shape[:2])
    frame = cv2.resize(img, (round(img.shape[1] * scale) // 2 * 2, round(img.shape[0] * scale) // 2 * 2))
    _clip(tmp_path / "with_face.mp4", frame)
    _clip(tmp_path / "empty.mp4", np.full_like(frame, 127))
    cv2.imwrite(str(tmp_path / "still.png"), img)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("video,subject,stills\nwith_face.mp4,s1,still.png\nempty.mp4,,\n", encoding="utf-8")
    assert main(["eval", "video", "--manifest", str(manifest), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["runner"] == "pipeline"
    a, b = data["videos"]
    assert a["video"] == "with_face.mp4"
    assert a["true_alerts"] == ["s1"]
    assert a["missed"] == []
    assert a["false_alerts"] == 0
    assert a["faces_processed"] > 0
    assert a["frames"] == 30
    assert b["false_alerts"] == 0
    assert b["faces_processed"] == 0
    assert data["totals"]["appearance_tpir"] == 1.0
    assert data["meta"]["min_similarity"] is not None


def test_eval_video_missing_clip_is_reported_not_fatal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cv2.imwrite(str(tmp_path / "still.png"), read_image(sample_image("yaoming")))
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("video,subject,stills\nnope.mp4,s1,still.png\n", encoding="utf-8")
    assert main(["eval", "video", "--manifest", str(manifest), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "not found" in data["videos"][0]["error"]
    assert data["totals"]["videos_failed"] == 1


def test_eval_video_bad_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("clip\nx.mp4\n", encoding="utf-8")
    assert main(["eval", "video", "--manifest", str(manifest)]) == 3
    assert capsys.readouterr().err.startswith("overt: error:")
