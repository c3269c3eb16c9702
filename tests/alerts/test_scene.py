"""The redacted scene frame stored with each alert: sealed under the alert's key (bound to its row),
served only to adjudicators (audited), checked at ingest, shredded with the alert, kept when retained."""

from __future__ import annotations

import dataclasses
import io
import os
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from overt.alerts.evidence import check_evidence, sign_alert, verify_bundle, write_bundle
from overt.alerts.ingest_checks import MAX_SCENE_PX, IngestRejectedError
from overt.alerts.review import AlertService
from overt.crypto.signing import SigningKey
from overt.domain.alerts import PadResult
from overt.domain.clock import FakeClock
from overt.errors import AuthError, DecryptionError, NotFoundError
from overt.retention import purge, retain_alert
from overt.store import Store
from overt.store.models import AlertRow, AlertSceneRow, DataKeyRow
from tests.alerts.conftest import make_alert
from tests.alerts.test_review import _active, _incoming


def scene_jpeg(w: int = 960, h: int = 540) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


SCENE = scene_jpeg()


def test_scene_is_sealed_bound_to_its_row_served_audited_and_shredded(store: Store, clock: FakeClock) -> None:
    u, dep = _active(store, clock, hours=72)
    alerts = AlertService(store)
    with_scene = dataclasses.replace(
        _incoming(clock, "s-1"), scene_jpeg=SCENE, integrity_flags=("frozen",), pad=PadResult("minifas", 0.31, False)
    )
    a, _ = alerts.ingest("edge", dep, with_scene)
    b, _ = alerts.ingest("edge", dep, dataclasses.replace(_incoming(clock, "s-2"), scene_jpeg=SCENE))
    c, _ = alerts.ingest("edge", dep, _incoming(clock, "s-3"))  # a sender without a scene frame
    view = alerts.get(a)
    assert view.has_scene
    assert alerts.get(b).has_scene
    assert not alerts.get(c).has_scene
    assert [v.has_scene for v in alerts.list()] == [False, True, True]
    assert view.integrity_flags == ("frozen",)
    assert view.pad == PadResult("minifas", 0.31, False)
    # at rest: ciphertext only, and bound to its row (moved to another alert it does not open)
    with store.db.session() as s:
        blobs = {r.alert_id: bytes(r.blob) for r in s.scalars(select(AlertSceneRow))}
    assert set(blobs) == {a, b}
    assert all(not blob.startswith(b"\xff\xd8") and SCENE[200:264] not in blob for blob in blobs.values())
    with store.transaction() as tx:
        tx.session.get(AlertSceneRow, b).blob = blobs[a]  # type: ignore[union-attr]
    with pytest.raises(DecryptionError):
        alerts.scene(u["op"], b)
    # served to adjudicators only, each view audited; none stored -> not found
    with pytest.raises(AuthError):
        alerts.scene(u["aud"], a)
    assert alerts.scene(u["op"], a) == SCENE
    with pytest.raises(NotFoundError):
        alerts.scene(u["op"], c)
    with store.transaction() as tx:
        viewed = [e for e in tx.audit.entries() if e.action == "alert.viewed" and e.target == f"alert:{a}"]
    assert viewed
    assert viewed[-1].details == {"scene": True}
    # retained as evidence: kept past the retention period; the others are shredded with their key
    retain_alert(store, u["op"], a, reason="complaint received", until=clock.now() + timedelta(days=30))
    key_b = key_of(store, b)
    clock.advance(timedelta(hours=25))
    assert sorted(purge(store, "admin").alerts) == [b, c]
    assert alerts.scene(u["op"], a) == SCENE
    with store.db.session() as s:
        assert list(s.scalars(select(AlertSceneRow.alert_id))) == [a]
        shredded = s.get(DataKeyRow, key_b)
        assert shredded is None or shredded.wrapped is None  # crypto-shredded with its alert


def key_of(store: Store, alert_id: int) -> str:
    with store.db.session() as s:
        row = s.get(AlertRow, alert_id)
        assert row is not None
        assert row.key_id is not None
        return row.key_id


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"0" * 64, "not_jpeg"),
        (b"\xff\xd8\xff" + b"0" * 64, "not_jpeg"),
        (scene_jpeg(MAX_SCENE_PX + 8, 64), "image_too_large"),
        (b"\xff\xd8\xff" + b"0" * (2 * 1024 * 1024 + 1), "image_too_large"),
    ],
)
def test_ingest_checks_the_scene_frame_like_the_crop(store: Store, clock: FakeClock, data: bytes, code: str) -> None:
    _, dep = _active(store, clock)
    alerts = AlertService(store)
    with pytest.raises(IngestRejectedError) as exc:
        alerts.ingest("edge", dep, dataclasses.replace(_incoming(clock, "bad"), scene_jpeg=data))
    assert exc.value.code == code
    assert alerts.list() == []  # nothing of a rejected alert is kept


def test_the_signed_record_covers_the_scene_frame() -> None:
    key = SigningKey(os.urandom(32))
    alert = sign_alert(dataclasses.replace(make_alert(), scene_jpeg=SCENE), key)
    assert alert.evidence is not None
    crop, context = alert.probe_crop_jpeg, alert.context_jpeg
    assert check_evidence(alert.evidence, crop, context, trusted_public_key=key.public_key, scene_jpeg=SCENE).ok
    swapped = check_evidence(alert.evidence, crop, context, scene_jpeg=scene_jpeg(640, 360))
    assert swapped.reasons == ("scene frame differs from the signed record (SHA-256 mismatch)",)
    # a scene frame attached to a record that signs none is refused too
    unsigned_scene = sign_alert(make_alert(), key)
    assert unsigned_scene.evidence is not None
    assert not check_evidence(unsigned_scene.evidence, crop, context, scene_jpeg=SCENE).ok


def test_an_evidence_bundle_carries_the_signed_scene_frame(tmp_path: Path) -> None:
    key = SigningKey(os.urandom(32))
    alert = sign_alert(dataclasses.replace(make_alert(), scene_jpeg=SCENE), key)
    assert alert.evidence is not None
    crop, context = alert.probe_crop_jpeg, alert.context_jpeg
    bundle = write_bundle(tmp_path / "b", alert.evidence, crop, context, SCENE)
    assert (bundle / "scene.jpg").read_bytes() == SCENE
    assert verify_bundle(bundle).ok
    (bundle / "scene.jpg").write_bytes(scene_jpeg(640, 360))  # a changed scene fails
    assert verify_bundle(bundle).reasons == ("scene frame differs from the signed record (SHA-256 mismatch)",)
    (bundle / "scene.jpg").unlink()  # so does one left out when the record signs it
    assert verify_bundle(bundle).reasons == ("missing file scene.jpg (the record signs a scene frame)",)
    # an alert without a scene frame: six files, as before
    plain = sign_alert(make_alert(), key)
    assert plain.evidence is not None
    assert verify_bundle(write_bundle(tmp_path / "p", plain.evidence, crop, context)).ok
    assert not (tmp_path / "p" / "scene.jpg").exists()
