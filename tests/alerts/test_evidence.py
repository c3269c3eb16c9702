"""Signed evidence: an exported bundle verifies offline, and any changed byte, pixel or field fails."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from overt.alerts.evidence import (
    BUNDLE_FILES,
    check_evidence,
    sign_alert,
    verify_bundle,
    verify_bundle_files,
    write_bundle,
)
from overt.crypto.signing import SigningKey, canonical_json, key_fingerprint
from overt.domain.alerts import Alert
from tests.alerts.conftest import make_alert


def _tiny_jpeg(value: int) -> bytes:
    img = np.full((8, 8, 3), value, np.uint8)
    img[2:5, 3:6] = (value + 90) % 256
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 50])
    assert ok
    return bytes(buf.tobytes())


@pytest.fixture
def key() -> SigningKey:
    return SigningKey(os.urandom(32))


@pytest.fixture
def signed(key: SigningKey) -> Alert:
    a = dataclasses.replace(
        make_alert(), probe_crop_jpeg=_tiny_jpeg(100), context_jpeg=_tiny_jpeg(30), integrity_flags=("frozen",)
    )
    return sign_alert(a, key)


def _bundle(tmp_path: Path, a: Alert) -> Path:
    assert a.evidence is not None
    return write_bundle(tmp_path / "bundle", a.evidence, a.probe_crop_jpeg, a.context_jpeg)


def test_bundle_verifies_offline_and_names_its_key(tmp_path: Path, signed: Alert, key: SigningKey) -> None:
    d = _bundle(tmp_path, signed)
    assert sorted(p.name for p in d.iterdir()) == sorted(BUNDLE_FILES)
    assert all((p.stat().st_mode & 0o077) == 0 for p in d.iterdir())
    check = verify_bundle(d, expected_fingerprint=key.fingerprint)
    assert check.ok, check.reasons
    assert check.fingerprint == key.fingerprint == (d / "fingerprint.txt").read_text().strip()
    assert check.record is not None
    assert check.record["integrity_flags"] == ["frozen"]
    other = verify_bundle(d, expected_fingerprint=SigningKey(os.urandom(32)).fingerprint)
    assert not other.ok
    assert "fingerprint differs" in " ".join(other.reasons)


def test_every_single_byte_change_to_any_file_is_detected(tmp_path: Path, signed: Alert) -> None:
    """Exhaustive over every byte of every file of a small (~2 KB) bundle: each byte is replaced
    by all eight one-bit flips and its complement; every variant must fail verification."""
    d = _bundle(tmp_path, signed)
    files = {n: (d / n).read_bytes() for n in BUNDLE_FILES}
    assert verify_bundle_files(files).ok
    total = sum(len(v) for v in files.values())
    assert total < 4000, "keep the exhaustive bundle small"
    tried = 0
    for name, data in files.items():
        for pos in range(len(data)):
            for mask in (1, 2, 4, 8, 16, 32, 64, 128, 255):
                changed = bytearray(data)
                changed[pos] ^= mask
                variant = dict(files)
                variant[name] = bytes(changed)
                check = verify_bundle_files(variant)
                assert not check.ok, f"{name} byte {pos} ^ {mask} went undetected"
                assert check.reasons
                tried += 1
    assert tried == total * 9


def test_changed_pixel_or_field_fails_with_the_reason(tmp_path: Path, signed: Alert, key: SigningKey) -> None:
    d = _bundle(tmp_path, signed)
    img = np.asarray(cv2.imdecode(np.frombuffer((d / "crop.jpg").read_bytes(), np.uint8), cv2.IMREAD_COLOR), np.uint8)
    img[0, 0, 0] ^= 1  # one pixel, re-encoded
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    (d / "crop.jpg").write_bytes(bytes(buf.tobytes()))
    check = verify_bundle(d)
    assert not check.ok
    assert any("crop image differs" in r for r in check.reasons)

    d2 = write_bundle(tmp_path / "b2", signed.evidence, signed.probe_crop_jpeg, signed.context_jpeg)  # type: ignore[arg-type]
    doc = json.loads((d2 / "record.json").read_bytes())
    doc["similarity"] = 0.99
    (d2 / "record.json").write_bytes(canonical_json(doc))
    check = verify_bundle(d2)
    assert not check.ok
    assert any("signature does not verify" in r for r in check.reasons)

    (d2 / "record.json").write_bytes(signed.evidence.record)  # type: ignore[union-attr]
    (d2 / "notes.txt").write_text("added later")
    assert not verify_bundle(d2).ok


def test_evidence_signed_by_another_key_is_refused(signed: Alert, key: SigningKey) -> None:
    assert signed.evidence is not None
    ok = check_evidence(signed.evidence, signed.probe_crop_jpeg, signed.context_jpeg, trusted_public_key=key.public_key)
    assert ok.ok
    forged_key = SigningKey(os.urandom(32))
    forged = sign_alert(dataclasses.replace(signed, evidence=None), forged_key).evidence
    assert forged is not None
    bad = check_evidence(forged, signed.probe_crop_jpeg, signed.context_jpeg, trusted_public_key=key.public_key)
    assert not bad.ok
    assert "another key" in bad.reasons[0]
    assert key_fingerprint(key.public_key) == key.fingerprint
