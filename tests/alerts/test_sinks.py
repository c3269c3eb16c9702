from __future__ import annotations

import base64
import dataclasses
import io
import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from overt.alerts import JsonlSink, MemorySink, StreamSink, alert_to_json
from overt.domain.alerts import Alert
from overt.errors import InputError
from tests.alerts.conftest import make_alert


def test_jsonl_line_has_the_required_fields(tmp_path: Path, alert: Alert) -> None:
    path = tmp_path / "out" / "alerts.jsonl"
    sink = JsonlSink(path, include_images=True)
    sink.emit(alert)
    sink.emit(make_alert("a2"))
    sink.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    row = json.loads(lines[0])
    for key in ("subject", "similarity", "camera", "track_id", "frame_index", "pts_s", "alerted_at"):
        assert key in row
    assert row["subject"] == "subject-7"
    assert row["camera"] == "cam-1"
    assert row["track_id"] == 3
    assert datetime.fromisoformat(row["alerted_at"]).tzinfo is not None
    assert base64.b64decode(row["probe_crop_jpeg_b64"]) == alert.probe_crop_jpeg


def test_jsonl_appends_across_runs(tmp_path: Path, alert: Alert) -> None:
    path = tmp_path / "alerts.jsonl"
    for _ in range(2):
        s = JsonlSink(path)
        s.emit(alert)
        s.close()
    assert len(path.read_text().splitlines()) == 2


def test_stream_and_memory_sinks(alert: Alert) -> None:
    buf = io.StringIO()
    StreamSink(buf).emit(alert)
    assert "subject=subject-7" in buf.getvalue()
    assert "similarity=0.712" in buf.getvalue()
    m = MemorySink()
    m.emit(alert)
    assert m.alerts == [alert]


def test_alert_repr_is_redacted_and_validated(alert: Alert) -> None:
    assert "subject-7" not in repr(alert)
    with pytest.raises(InputError):
        make_alert(subject="")
    with pytest.raises(InputError):
        dataclasses.replace(alert, probe_crop_jpeg=b"not a jpeg")


def test_json_without_images(alert: Alert) -> None:
    row = alert_to_json(alert, include_images=False)
    assert "probe_crop_jpeg_b64" not in row
    assert np.allclose(row["xyxy"], [10, 20, 100, 120])


def test_jsonl_carries_no_image_unless_asked(tmp_path: Path, alert: Alert) -> None:
    path = tmp_path / "alerts.jsonl"
    sink = JsonlSink(path)
    sink.emit(alert)
    sink.close()
    data = path.read_bytes()
    assert b"probe_crop_jpeg_b64" not in data
    assert b"/9j/" not in data
    assert base64.b64encode(alert.probe_crop_jpeg)[:20] not in data
