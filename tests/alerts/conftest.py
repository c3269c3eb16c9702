from __future__ import annotations

from datetime import UTC, datetime

import cv2
import numpy as np
import pytest

from overt.domain.alerts import Alert
from overt.domain.quality import FaceQuality


def make_alert(alert_id: str = "a1", subject: str = "subject-7") -> Alert:
    ok, buf = cv2.imencode(".jpg", np.full((112, 112, 3), 128, np.uint8))
    assert ok
    jpeg = bytes(buf.tobytes())
    return Alert(
        alert_id=alert_id,
        camera_id="cam-1",
        subject=subject,
        similarity=0.71234,
        track_id=3,
        frame_index=42,
        pts_s=1.68,
        first_seen_pts_s=1.2,
        alerted_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        quality=FaceQuality(90.0, 40.0, 0.9, 120.0, 3.0, -2.0),
        xyxy=np.array([10, 20, 100, 120], np.float32),
        latency_ms=123.4,
        votes=2,
        window=3,
        model_id="arcface_w600k_mbf",
        probe_crop_jpeg=jpeg,
        context_jpeg=jpeg,
    )


@pytest.fixture
def alert() -> Alert:
    return make_alert()
