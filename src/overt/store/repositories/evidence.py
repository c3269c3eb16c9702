"""Signed evidence in the store (tables of migration ``0003_integrity``): the node's signing key, each
alert's signed record, and the signing keys registered for edge devices.

- The node's Ed25519 seed is a data key (purpose ``signing``) wrapped by the KEK like every
  other key; its public key fingerprint is written to the audit log when it is created.
- An alert's evidence (record, signature, public key, context image) is sealed under the
  alert's own data key, so purging the alert shreds it with the crop.
- A device's public key (raw Ed25519, 32 bytes) is registered with its device token; the
  centre checks every alert that device posts against it.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from overt.crypto.envelope import Aad
from overt.crypto.signing import SigningKey, key_fingerprint
from overt.domain.alerts import SignedEvidence
from overt.errors import DecryptionError, InputError, NotFoundError
from overt.store.models import AlertEvidenceRow, AlertRow, DeviceKeyRow, MetaRow

if TYPE_CHECKING:
    from overt.audit.log import AuditLog
    from overt.store.vault import Vault

NODE_KEY_META = "node_signing_key_id"


def node_signing_key(session: Session, vault: Vault, audit: AuditLog) -> SigningKey:
    """This node's signing key, created (and its fingerprint audited) on first use."""
    meta = session.get(MetaRow, NODE_KEY_META)
    if meta is not None:
        return SigningKey(vault.key(meta.value))
    key_id = vault.create_key("signing")
    vault.set_meta(NODE_KEY_META, key_id)
    key = SigningKey(vault.key(key_id))
    audit.append(
        "system",
        "node_key.created",
        "node",
        {"fingerprint": key.fingerprint, "public_key_b64": base64.b64encode(key.public_key).decode("ascii")},
    )
    session.flush()
    return key


@dataclass(frozen=True, slots=True)
class StoredEvidence:
    evidence: SignedEvidence
    context_jpeg: bytes
    verified: bool


def save_evidence(
    session: Session, vault: Vault, alert_id: int, evidence: SignedEvidence, context_jpeg: bytes, *, verified: bool
) -> None:
    row = session.get(AlertRow, alert_id)
    if row is None:
        raise NotFoundError(f"no alert {alert_id}")
    if row.key_id is None:
        row.key_id = vault.create_key("alert")
        session.flush()
    doc = {
        "record": base64.b64encode(evidence.record).decode("ascii"),
        "signature": base64.b64encode(evidence.signature).decode("ascii"),
        "public_key": base64.b64encode(evidence.public_key).decode("ascii"),
        "context": base64.b64encode(context_jpeg).decode("ascii"),
    }
    blob = vault.seal(row.key_id, json.dumps(doc).encode(), Aad("alert_evidence", str(alert_id)))
    session.add(
        AlertEvidenceRow(
            alert_id=alert_id, fingerprint=key_fingerprint(evidence.public_key), verified=verified, blob=blob
        )
    )
    session.flush()


def load_evidence(session: Session, vault: Vault, alert_id: int) -> StoredEvidence | None:
    ev = session.get(AlertEvidenceRow, alert_id)
    if ev is None:
        return None
    row = session.get(AlertRow, alert_id)
    if row is None or row.key_id is None or ev.blob is None:
        raise DecryptionError(f"alert {alert_id}'s evidence is gone")
    doc = json.loads(vault.open(row.key_id, ev.blob, Aad("alert_evidence", str(alert_id))))
    evidence = SignedEvidence(
        record=base64.b64decode(doc["record"]),
        signature=base64.b64decode(doc["signature"]),
        public_key=base64.b64decode(doc["public_key"]),
    )
    return StoredEvidence(evidence, base64.b64decode(doc["context"]), ev.verified)


def register_device_key(session: Session, token_id: int, public_key: bytes, *, by: str, now: datetime) -> str:
    """Register (or replace) the signing key of a device token; returns its fingerprint."""
    fp = key_fingerprint(public_key)  # raises on a wrong length
    row = session.get(DeviceKeyRow, token_id)
    if row is None:
        session.add(
            DeviceKeyRow(token_id=token_id, public_key=public_key, fingerprint=fp, registered_by=by, registered_at=now)
        )
    else:
        row.public_key, row.fingerprint, row.registered_by, row.registered_at = public_key, fp, by, now
    session.flush()
    return fp


def device_key(session: Session, token_id: int) -> bytes | None:
    row = session.get(DeviceKeyRow, token_id)
    return None if row is None else bytes(row.public_key)


def decode_public_key(text: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        raise InputError("signing_public_key_b64 is not base64") from None
    if len(raw) != 32:
        raise InputError("signing_public_key_b64 must hold a raw 32-byte Ed25519 public key")
    return raw
