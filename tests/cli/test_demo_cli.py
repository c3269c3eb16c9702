from __future__ import annotations

import json

import pytest

from overt.cli.app import main


@pytest.mark.slow
def test_demo_alerts_once_and_writes_nothing_about_bystanders(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["alerts"]) == 1
    alert = out["alerts"][0]
    assert alert["subject"] == "YM-0001"
    assert alert["frame_index"] >= out["subject_first_visible_frame"]
    assert out["counters"]["faces_seen"] > out["counters"]["frames"]  # bystanders were seen...
    assert sorted(out["files_written"]) == [
        "alerts.jsonl",
        "clip.mp4",
        "watchlist/YM-0001/1.jpg",
    ]  # ...and left nothing
