"""The centre's check of an alert's signature at ingest.

A device token with a registered signing key (``device_keys``) must send signed evidence that
verifies against that key, over the very crop and context image it sends; the local pipeline's
alerts are checked against this node's own key. Evidence that does not verify is refused with
the reason; verified evidence is stored sealed beside the alert for ``overt alert export``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from overt.alerts.evidence import check_evidence
from overt.audit.log import AuditLog
from overt.crypto.signing import SigningKey, key_fingerprint
from overt.domain.alerts import SignedEvidence
from overt.errors import AuthError, InputError
from overt.store.repositories.evidence import device_key, node_signing_key, save_evidence
from overt.store.store import Store, Tx
from overt.store.vault import Vault


@dataclass(frozen=True, slots=True)
class IngestedEvidence:
    evidence: SignedEvidence
    context_jpeg: bytes
    verified: bool


def node_key(store: Store) -> SigningKey:
    """This node's signing key (created, and its fingerprint audited, on first use)."""
    with store.db.session() as s:
        return node_signing_key(s, Vault(s, store.kek, store.clock.now()), AuditLog(s, store.clock))


def check_ingest(
    store: Store,
    *,
    remote_alert_id: str,
    evidence: SignedEvidence | None,
    crop_jpeg: bytes | None,
    context_jpeg: bytes | None,
    token_id: int | None,
    scene_jpeg: bytes | None = None,
    local: bool,
    session: Session | None = None,
) -> IngestedEvidence | None:
    """Verify an ingested alert's evidence; ``None`` when unsigned and no key requires it.
    ``session``: read the device's key in the caller's transaction (else in a session of its own)."""
    if session is not None:
        trusted = device_key(session, token_id) if token_id is not None else None
    else:
        with store.db.session() as s:
            trusted = device_key(s, token_id) if token_id is not None else None
    if trusted is None and local:
        trusted = node_key(store).public_key
    if evidence is None:
        if trusted is not None and not local:
            raise AuthError("alert refused: this device has a registered signing key and the alert is not signed")
        return None
    if crop_jpeg is None or context_jpeg is None:
        raise InputError("signed evidence needs the probe crop and the context image")
    check = check_evidence(evidence, crop_jpeg, context_jpeg, trusted_public_key=trusted, scene_jpeg=scene_jpeg)
    if not check.ok:
        raise AuthError(f"alert refused: {check.reasons[0]}")
    if check.record is not None and check.record.get("alert_id") != remote_alert_id:
        raise AuthError("alert refused: its signed record is for another alert")
    return IngestedEvidence(evidence, context_jpeg, verified=trusted is not None)


def seal_ingested(tx: Tx, alert_id: int, ingested: IngestedEvidence) -> None:
    """Seal the evidence beside the alert (same transaction); :func:`audit_ingested` audits it."""
    save_evidence(tx.session, tx.vault, alert_id, ingested.evidence, ingested.context_jpeg, verified=ingested.verified)


def audit_ingested(tx: Tx, alert_id: int, ingested: IngestedEvidence) -> None:
    tx.audit.append(
        "system",
        "alert.evidence_stored",
        f"alert:{alert_id}",
        {"fingerprint": key_fingerprint(ingested.evidence.public_key), "verified": ingested.verified},
    )
