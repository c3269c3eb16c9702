"""Shared steps of API tests: a deployment with an enrolled face, a device token, alerts."""

from __future__ import annotations

import base64
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from PIL import Image

from overt.samples import sample_image
from tests.api.conftest import Running


def jpeg(color: tuple[int, int, int] = (120, 90, 60), size: int = 112) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buf, "JPEG")
    return buf.getvalue()


def upload_entry(
    client: httpx.Client, ref: str, data: bytes, confirm_duplicate_of: int | None = None
) -> httpx.Response:
    """POST a watch-list image with its provenance (a watch-list manager's client); the same face
    as an active entry must name that entry in ``confirm_duplicate_of``."""
    confirm = {} if confirm_duplicate_of is None else {"confirm_duplicate_of": str(confirm_duplicate_of)}
    return client.post(
        "/api/v1/watchlist/entries",
        files={"image": ("yao.jpg", data, "image/jpeg")},
        data={
            "subject_ref": ref,
            "category": "wanted_by_court",
            "reason": "warrant",
            "image_source": "custody photo",
            "legal_basis": "PACE s64A",
            "taken_on": "2025-01-01",
            "review_on": (datetime.now(UTC).date() + timedelta(days=365)).isoformat(),
            **confirm,
        },
    )


def enrol_yaoming(running: Running, ref: str = "CASE-0001") -> int:
    wm = running.login("wm")
    r = upload_entry(wm, ref, sample_image("yaoming").read_bytes())
    wm.close()
    assert r.status_code == 201, r.text
    return int(r.json()["entry_id"])


def plan(hours: float = 6, start_offset_min: float = -5) -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(minutes=start_offset_min)
    return {
        "purpose": "Locate people wanted by the courts",
        "legal_basis": "common law policing powers",
        "place": "High Street, outside the station",
        "planned_start": start.isoformat(),
        "planned_end": (start + timedelta(hours=hours)).isoformat(),
        "criteria": "wanted by court",
        "categories": ["wanted_by_court"],
        "min_similarity": 0.45,
        "threshold_justification": "calibrated at FPIR 1/1000",
    }


def active_deployment(running: Running, *, start: bool = True, publish: bool = True) -> int:
    """Created, authorised, notice published with an officer's urgent late start (tests run inside the
    24 h lead time), and started; ``publish=False`` stops after authorisation."""
    op = running.login("op")
    r = op.post("/api/v1/deployments", json=plan())
    assert r.status_code == 201, r.text
    dep = int(r.json()["id"])
    officer = running.login("officer")
    r = officer.post(f"/api/v1/deployments/{dep}/authorise")
    assert r.status_code == 200, r.text
    if publish:
        r = op.post(f"/api/v1/deployments/{dep}/publish-notice")
        assert r.status_code == 200, r.text
        r = officer.post(f"/api/v1/deployments/{dep}/late-start", json={"reason": "urgent: test of the start path"})
        assert r.status_code == 200, r.text
    officer.close()
    if start and publish:
        r = op.post(f"/api/v1/deployments/{dep}/start")
        assert r.status_code == 200, r.text
    op.close()
    return dep


def device_client(running: Running, deployment_id: int) -> httpx.Client:
    admin = running.login("admin")
    r = admin.post(
        "/api/v1/tokens", json={"name": f"edge-{deployment_id}", "kind": "device", "deployment_id": deployment_id}
    )
    admin.close()
    assert r.status_code == 201, r.text
    c = running.client()
    c.headers["Authorization"] = f"Bearer {r.json()['token']}"
    return c


def alert_body(entry_id: int, *, similarity: float = 0.71, alert_id: str | None = None) -> dict[str, Any]:
    return {
        "alert_id": alert_id or uuid.uuid4().hex[:12],
        "subject": str(entry_id),
        "similarity": similarity,
        "camera": "cam-1",
        "track_id": 3,
        "frame_index": 42,
        "pts_s": 1.4,
        "alerted_at": datetime.now(UTC).isoformat(),
        "latency_ms": 180.0,
        "votes": 2,
        "window": 3,
        "model_id": "arcface_w600k_mbf",
        "xyxy": [10, 10, 90, 90],
        "quality": {"size_px": 96.0, "det_score": 0.88, "sharpness": 140.0, "yaw_deg": 4.0, "roll_deg": 1.0},
        "probe_crop_jpeg_b64": base64.b64encode(jpeg()).decode(),
        "context_jpeg_b64": base64.b64encode(jpeg((20, 20, 20), 160)).decode(),
    }
