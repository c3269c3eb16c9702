"""``overt alert export``: write a stored alert's signed evidence bundle (audited)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from overt.alerts.evidence import verify_bundle, write_bundle
from overt.crypto.signing import key_fingerprint
from overt.domain.users import Permission, User
from overt.errors import InputError
from overt.store.repositories.evidence import load_evidence
from overt.store.store import Store
from overt.store.vault import Vault


@dataclass(frozen=True, slots=True)
class ExportedBundle:
    directory: Path
    fingerprint: str
    verified: bool


def export_bundle(store: Store, actor: User, alert_id: int, directory: Path, *, crop_jpeg: bytes) -> ExportedBundle:
    """Write the bundle of ``alert_id`` into ``directory`` and check it before saying so."""
    actor.require(Permission.ADJUDICATE)
    with store.db.session() as s:
        stored = load_evidence(s, Vault(s, store.kek, store.clock.now()), alert_id)
    if stored is None:
        raise InputError(f"alert {alert_id} has no signed evidence (raised before signing); export --out FILE.jpg")
    with store.transaction() as tx:
        scene = tx.alerts.scene(alert_id) if alert_id in tx.alerts.with_scene([alert_id]) else None
    write_bundle(directory, stored.evidence, crop_jpeg, stored.context_jpeg, scene)
    check = verify_bundle(directory)
    if not check.ok:
        raise InputError(f"the exported bundle does not verify: {'; '.join(check.reasons)}")
    fp = key_fingerprint(stored.evidence.public_key)
    with store.transaction() as tx:
        tx.audit.append(
            actor.name,
            "alert.exported",
            f"alert:{alert_id}",
            {"bundle": True, "fingerprint": fp, "scene": scene is not None},
        )
    return ExportedBundle(directory, fp, stored.verified)
