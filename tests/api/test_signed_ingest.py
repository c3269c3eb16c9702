"""The centre verifies edge signatures at ingest against the device's registered key; a stored
signed alert exports as a bundle that verifies offline (``overt evidence verify``)."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from overt.alerts.evidence import sign_alert, verify_bundle
from overt.alerts.export import export_bundle
from overt.alerts.sinks import alert_to_json
from overt.cli.app import main
from overt.crypto.signing import SigningKey
from overt.domain.alerts import Alert, PadResult
from overt.domain.quality import FaceQuality
from overt.store.models import AlertDetailsRow, AlertEvidenceRow, AuditRow
from tests.api.conftest import Running
from tests.api.helpers import active_deployment, enrol_yaoming, jpeg


@pytest.fixture(scope="module")
def setup(running: Running) -> dict[str, int]:
    return {"entry": enrol_yaoming(running), "deployment": active_deployment(running)}


def _alert(entry: int) -> Alert:
    return Alert(
        alert_id=os.urandom(6).hex(),
        camera_id="cam-1",
        subject=str(entry),
        similarity=0.71,
        track_id=3,
        frame_index=42,
        pts_s=1.4,
        first_seen_pts_s=1.0,
        alerted_at=datetime.now(UTC),
        quality=FaceQuality(96.0, 80.0, 0.88, 140.0, 4.0, 1.0),
        xyxy=np.array([10, 10, 90, 90], np.float32),
        latency_ms=180.0,
        votes=2,
        window=3,
        model_id="arcface_w600k_mbf",
        probe_crop_jpeg=jpeg(),
        context_jpeg=jpeg((20, 20, 20), 160),
        integrity_flags=("loop",),
    )


def _device(running: Running, deployment: int, key: SigningKey | None) -> Any:
    admin = running.login("admin")
    body: dict[str, object] = {"name": f"edge-{os.urandom(3).hex()}", "kind": "device", "deployment_id": deployment}
    if key is not None:
        body["signing_public_key_b64"] = base64.b64encode(key.public_key).decode()
    r = admin.post("/api/v1/tokens", json=body)
    admin.close()
    assert r.status_code == 201, r.text
    c = running.client()
    c.headers["Authorization"] = f"Bearer {r.json()['token']}"
    return c


def test_ingest_verifies_signatures_against_the_registered_key(
    running: Running, setup: dict[str, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = SigningKey(os.urandom(32))
    dev = _device(running, setup["deployment"], key)
    signed = sign_alert(_alert(setup["entry"]), key)
    r = dev.post("/api/v1/ingest/alerts", json=alert_to_json(signed))
    assert r.status_code == 201, r.text
    alert_id = r.json()["alert_id"]

    forged = sign_alert(_alert(setup["entry"]), SigningKey(os.urandom(32)))
    r = dev.post("/api/v1/ingest/alerts", json=alert_to_json(forged))
    assert r.status_code in (401, 403)
    assert "another key" in r.text

    unsigned = alert_to_json(_alert(setup["entry"]))
    r = dev.post("/api/v1/ingest/alerts", json=unsigned)
    assert r.status_code in (401, 403)
    assert "not signed" in r.text

    swapped = alert_to_json(sign_alert(_alert(setup["entry"]), key))
    swapped["probe_crop_jpeg_b64"] = base64.b64encode(jpeg((200, 10, 10))).decode()  # another face, same record
    r = dev.post("/api/v1/ingest/alerts", json=swapped)
    assert r.status_code in (401, 403)
    assert "crop image differs" in r.text

    with running.store.transaction() as tx:
        found = tx.users.get_with_hash("op")
        actions = [row.action for row in tx.session.scalars(select(AuditRow))]
    assert found is not None
    assert "device_key.registered" in actions
    bundle = export_bundle(running.store, found[0], alert_id, tmp_path / "bundle", crop_jpeg=jpeg())
    assert bundle.verified
    assert bundle.fingerprint == key.fingerprint
    assert verify_bundle(tmp_path / "bundle", expected_fingerprint=key.fingerprint).ok
    capsys.readouterr()
    assert main(["evidence", "verify", str(tmp_path / "bundle"), "--fingerprint", key.fingerprint]) == 0
    assert "evidence verified" in capsys.readouterr().out
    (tmp_path / "bundle" / "record.json").write_bytes(
        (tmp_path / "bundle" / "record.json").read_bytes().replace(b'"loop"', b'"LOOP"')
    )
    assert main(["evidence", "verify", str(tmp_path / "bundle")]) != 0
    assert "signature does not verify" in capsys.readouterr().err
    dev.close()
    # Purging the alert removes its evidence too (and shreds the key that sealed it).
    with running.store.transaction() as tx:
        tx.alerts.delete(alert_id)
    with running.store.db.session() as s:
        assert s.get(AlertEvidenceRow, alert_id) is None
        assert s.get(AlertDetailsRow, alert_id) is None  # else a reused id would refuse the next alert


def test_unregistered_device_may_still_post_unsigned(running: Running, setup: dict[str, int]) -> None:
    dev = _device(running, setup["deployment"], None)
    r = dev.post("/api/v1/ingest/alerts", json=alert_to_json(_alert(setup["entry"])))
    assert r.status_code == 201, r.text
    flagged = dataclasses.replace(_alert(setup["entry"]), pad=PadResult("onnx:0123456789ab", 0.2, live=False))
    r = dev.post("/api/v1/ingest/alerts", json=alert_to_json(flagged))
    assert r.status_code == 201, r.text
    dev.close()
    with running.store.db.session() as s:
        row = s.get(AlertDetailsRow, r.json()["alert_id"])
        assert row is not None
        doc = json.loads(row.details_json)
    assert doc["integrity_flags"] == ["loop"]  # kept with the alert at the centre
    assert doc["pad"] == {"backend": "onnx:0123456789ab", "score": 0.2, "live": False}
