"""Signed evidence: every alert is signed at creation; a bundle of it verifies offline.

The canonical record (:func:`evidence_record`) holds the alert's fields, the SHA-256 of its
probe crop and context images (and of its scene frame, when it has one), the camera id and
pinned certificate fingerprint, the model and snapshot ids, the stream-integrity flags, the PAD
verdict, the time, and the fingerprint of the signing node's public key. The node signs exactly
the record's canonical JSON bytes.

An evidence bundle is a directory of six files (seven with the scene frame), nothing else::

    record.json      the signed bytes, exactly
    signature.bin    64-byte Ed25519 signature of record.json
    public_key.bin   the node's raw 32-byte Ed25519 public key
    fingerprint.txt  SHA-256 hex of public_key.bin and a newline (as in the audit log)
    crop.jpg         probe crop; its SHA-256 is in the record
    context.jpg      context thumbnail (bystanders blurred); its SHA-256 is in the record
    scene.jpg        the scene frame (bystanders blurred, the face boxed), when the record signs one

:func:`verify_bundle` needs nothing but the directory (and, to tie it to a node, the
fingerprint from that node's audit log): any changed byte in any file fails, with the reason.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from overt.crypto.signing import (
    PUBLIC_KEY_BYTES,
    SIGNATURE_BYTES,
    SigningKey,
    canonical_json,
    key_fingerprint,
    sha256_hex,
    verify_signature,
)
from overt.domain.alerts import Alert, SignedEvidence
from overt.errors import InputError, StorageError

RECORD_VERSION: Final = "overt-evidence/1"
BUNDLE_FILES: Final = ("record.json", "signature.bin", "public_key.bin", "fingerprint.txt", "crop.jpg", "context.jpg")
SCENE_FILE: Final = "scene.jpg"
"""In a bundle exactly when its record signs a scene frame (``scene_sha256``)."""


def evidence_record(alert: Alert, *, node_fingerprint: str) -> dict[str, object]:
    """The canonical record of ``alert`` (what gets signed)."""
    q = alert.quality
    record: dict[str, object] = {
        "version": RECORD_VERSION,
        "alert_id": alert.alert_id,
        "camera_id": alert.camera_id,
        "camera_cert_sha256": alert.camera_cert_sha256,
        "subject": alert.subject,
        "similarity": round(alert.similarity, 6),
        "track_id": alert.track_id,
        "frame_index": alert.frame_index,
        "pts_s": round(alert.pts_s, 6),
        "first_seen_pts_s": round(alert.first_seen_pts_s, 6),
        "alerted_at": alert.alerted_at.isoformat(),
        "votes": alert.votes,
        "window": alert.window,
        "xyxy": [round(float(v), 2) for v in alert.xyxy],
        "quality": {
            "size_px": round(q.size_px, 3),
            "det_score": round(q.det_score, 4),
            "sharpness": round(q.sharpness, 3),
            "yaw_deg": round(q.yaw_deg, 3),
            "roll_deg": round(q.roll_deg, 3),
        },
        "model_id": alert.model_id,
        "snapshot_id": alert.snapshot_id,
        "integrity_flags": sorted(alert.integrity_flags),
        "pad": None
        if alert.pad is None
        else {"backend": alert.pad.backend, "score": round(alert.pad.score, 6), "live": alert.pad.live},
        "crop_sha256": sha256_hex(alert.probe_crop_jpeg),
        "context_sha256": sha256_hex(alert.context_jpeg),
        "node_key_fingerprint": node_fingerprint,
    }
    if alert.scene_jpeg is not None:
        record["scene_sha256"] = sha256_hex(alert.scene_jpeg)
    return record


def sign_alert(alert: Alert, key: SigningKey) -> Alert:
    """``alert`` with its :class:`SignedEvidence` (called once, when the alert is raised)."""
    record = canonical_json(evidence_record(alert, node_fingerprint=key.fingerprint))
    evidence = SignedEvidence(record=record, signature=key.sign(record), public_key=key.public_key)
    return dataclasses.replace(alert, evidence=evidence)


@dataclass(frozen=True, slots=True)
class EvidenceCheck:
    """Outcome of a verification: ``ok``, else every reason it failed."""

    ok: bool
    reasons: tuple[str, ...]
    fingerprint: str | None = None
    record: dict[str, object] | None = None


def check_evidence(
    evidence: SignedEvidence,
    crop_jpeg: bytes,
    context_jpeg: bytes | None,
    *,
    trusted_public_key: bytes | None = None,
    expected_fingerprint: str | None = None,
    scene_jpeg: bytes | None = None,
) -> EvidenceCheck:
    """Verify signed evidence against its images (and a trusted key or fingerprint, if given).

    A ``scene_jpeg`` must be the one the record names (a record without ``scene_sha256`` signs none)."""
    reasons: list[str] = []
    pub = evidence.public_key
    fp = key_fingerprint(pub) if len(pub) == PUBLIC_KEY_BYTES else None
    if trusted_public_key is not None and pub != trusted_public_key:
        reasons.append("signed by another key than the one registered for this node")
    if expected_fingerprint is not None and fp != expected_fingerprint.strip().lower():
        reasons.append("public key fingerprint differs from the expected one")
    if len(evidence.signature) != SIGNATURE_BYTES or not verify_signature(pub, evidence.record, evidence.signature):
        reasons.append("signature does not verify: record.json or the signature was changed")
    record: dict[str, object] | None = None
    try:
        doc = json.loads(evidence.record.decode("ascii"))
        record = doc if isinstance(doc, dict) else None
    except (UnicodeDecodeError, ValueError):
        record = None
    if record is None:
        reasons.append("record.json is not a JSON object")
    else:
        if record.get("version") != RECORD_VERSION:
            reasons.append("unknown record version")
        if record.get("node_key_fingerprint") != fp:
            reasons.append("record names another signing key than the bundle's public key")
        if record.get("crop_sha256") != sha256_hex(crop_jpeg):
            reasons.append("crop image differs from the signed record (SHA-256 mismatch)")
        if context_jpeg is not None and record.get("context_sha256") != sha256_hex(context_jpeg):
            reasons.append("context image differs from the signed record (SHA-256 mismatch)")
        if scene_jpeg is not None and record.get("scene_sha256") != sha256_hex(scene_jpeg):
            reasons.append("scene frame differs from the signed record (SHA-256 mismatch)")
    return EvidenceCheck(ok=not reasons, reasons=tuple(reasons), fingerprint=fp, record=record)


def _write_new(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def write_bundle(
    directory: Path,
    evidence: SignedEvidence,
    crop_jpeg: bytes,
    context_jpeg: bytes,
    scene_jpeg: bytes | None = None,
) -> Path:
    """Write an evidence bundle into a new (or empty) ``directory``; files are 0600."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if any(directory.iterdir()):
            raise InputError(f"{directory} is not empty; an evidence bundle needs an empty directory")
        files = {
            "record.json": evidence.record,
            "signature.bin": evidence.signature,
            "public_key.bin": evidence.public_key,
            "fingerprint.txt": (key_fingerprint(evidence.public_key) + "\n").encode("ascii"),
            "crop.jpg": crop_jpeg,
            "context.jpg": context_jpeg,
        }
        if scene_jpeg is not None:
            files[SCENE_FILE] = scene_jpeg
        for name in (*BUNDLE_FILES, SCENE_FILE):
            if name in files:
                _write_new(directory / name, files[name])
    except OSError as exc:
        raise StorageError(f"cannot write the evidence bundle: {exc.strerror or exc}") from exc
    return directory


def verify_bundle(directory: Path, *, expected_fingerprint: str | None = None) -> EvidenceCheck:
    """Check a bundle offline: files present and nothing else, signature, hashes, fingerprint."""
    if not directory.is_dir():
        return EvidenceCheck(False, (f"{directory} is not a directory",))
    files = {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}
    extra = sorted({p.name for p in directory.iterdir()} - set(files))
    check = verify_bundle_files(files, expected_fingerprint=expected_fingerprint)
    if extra:
        return EvidenceCheck(False, tuple(f"unexpected entry {n}" for n in extra) + check.reasons)
    return check


def verify_bundle_files(files: dict[str, bytes], *, expected_fingerprint: str | None = None) -> EvidenceCheck:
    """:func:`verify_bundle` on the files' contents, by name."""
    missing = [n for n in BUNDLE_FILES if n not in files]
    if missing:
        return EvidenceCheck(False, tuple(f"missing file {n}" for n in missing))
    reasons = [f"unexpected file {n}" for n in sorted(set(files) - {*BUNDLE_FILES, SCENE_FILE})]
    pub = files["public_key.bin"]
    if len(pub) != PUBLIC_KEY_BYTES:
        reasons.append(f"public_key.bin holds {len(pub)} bytes, expected {PUBLIC_KEY_BYTES}")
        return EvidenceCheck(False, tuple(reasons))
    if files["fingerprint.txt"] != (key_fingerprint(pub) + "\n").encode("ascii"):
        reasons.append("fingerprint.txt does not match public_key.bin")
    try:
        evidence = SignedEvidence(record=files["record.json"], signature=files["signature.bin"], public_key=pub)
    except InputError:
        reasons.append("record.json or signature.bin is malformed")
        return EvidenceCheck(False, tuple(reasons))
    scene = files.get(SCENE_FILE)
    check = check_evidence(
        evidence, files["crop.jpg"], files["context.jpg"], expected_fingerprint=expected_fingerprint, scene_jpeg=scene
    )
    if scene is None and check.record is not None and "scene_sha256" in check.record:
        reasons.append(f"missing file {SCENE_FILE} (the record signs a scene frame)")
    all_reasons = tuple(reasons) + check.reasons
    return EvidenceCheck(not all_reasons, all_reasons, check.fingerprint, check.record)
