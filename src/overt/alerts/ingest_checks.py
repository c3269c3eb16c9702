"""What the server checks before it stores an alert posted by a device (edge pipeline).

A device token proves only which deployment the device serves. Everything else it says that
the server can check, it checks: the entry is in that deployment's frozen snapshot and not
removed since; the similarity lies in [the authorised threshold, 1]; the alert time lies inside
the planned window and not in the future, allowing :data:`CLOCK_SKEW` (120 s) for an edge
clock that runs a little fast or slow; the probe crop, the context thumbnail and the scene frame
decode as JPEGs within byte and pixel limits (the pipeline sends a 112-150 px aligned crop, a 480 px
thumbnail and a 960 px scene frame; the limits leave room for other models and settings). A reject is refused with its
reason, counted (:data:`REJECTS`) and audited as ``alert.rejected`` with the device and token id;
nothing of the rejected alert is kept.
"""

from __future__ import annotations

import io
import math
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from PIL import Image, UnidentifiedImageError

from overt.domain.deployments import DeploymentState
from overt.errors import GovernanceError, InputError, KeyDestroyedError, NotFoundError
from overt.store.store import Store, Tx

CLOCK_SKEW = timedelta(seconds=120)
MAX_CROP_BYTES = 256 * 1024
MAX_CROP_PX = 512
MAX_CONTEXT_BYTES = 1024 * 1024
MAX_CONTEXT_PX = 1920
MAX_SCENE_BYTES = 2 * 1024 * 1024
MAX_SCENE_PX = 1920


class IngestRejectedError(InputError):
    """A device's alert failed a check; ``code`` names which (for counting and the audit log)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class DeviceAlertClaim:
    """What a device says about an alert (the fields the server can check)."""

    deployment_id: int
    entry_id: int | None
    """The snapshot subject the alert names (None: the sender named no entry id)."""
    similarity: float
    raised_at: datetime
    crop_jpeg: bytes | None = None
    context_jpeg: bytes | None = None
    scene_jpeg: bytes | None = None


class _Rejects:
    """Rejected device alerts by reason, since the process started (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, code: str) -> None:
        with self._lock:
            self._counts[code] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


REJECTS = _Rejects()


def check_jpeg(data: bytes, *, what: str, max_bytes: int, max_px: int) -> tuple[int, int]:
    """Decode fully; the size is checked from the header before any pixel is decoded."""
    if len(data) > max_bytes:
        raise IngestRejectedError("image_too_large", f"{what} is {len(data)} bytes (at most {max_bytes})")
    if not data.startswith(b"\xff\xd8\xff"):
        raise IngestRejectedError("not_jpeg", f"{what} is not a JPEG image")
    try:
        with Image.open(io.BytesIO(data), formats=["JPEG"]) as img:
            w, h = img.size
            if w < 1 or h < 1 or w > max_px or h > max_px:
                raise IngestRejectedError("image_too_large", f"{what} is {w}x{h} px (at most {max_px}x{max_px})")
            img.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise IngestRejectedError("not_jpeg", f"{what} does not decode as a JPEG image") from None
    return w, h


def _entry_id(value: int | None) -> int:
    if value is None or value < 1 or value > 2**53:
        raise IngestRejectedError("bad_entry", "subject must be the id of a watch-list entry (a positive number)")
    return value


_SNAPSHOT_IDS: OrderedDict[tuple[str, int, datetime], frozenset[int]] = OrderedDict()
_SNAPSHOT_IDS_LOCK = threading.Lock()
_SNAPSHOT_IDS_MAX = 64


def _snapshot_entry_ids(tx: Tx, deployment_id: int) -> frozenset[int]:
    """Entry ids of a deployment's frozen snapshot, decrypted once per process (it never changes)."""
    info = tx.snapshots.info(deployment_id)
    if info is None or info.destroyed:
        raise IngestRejectedError("no_snapshot", f"deployment {deployment_id} has no live watch-list snapshot")
    key = (tx.vault.kek_id, info.id, info.created_at)
    with _SNAPSHOT_IDS_LOCK:
        ids = _SNAPSHOT_IDS.get(key)
        if ids is not None:
            _SNAPSHOT_IDS.move_to_end(key)
            return ids
    try:
        ids = frozenset(s.entry_id for s in tx.snapshots.load(deployment_id).subjects)
    except (NotFoundError, KeyDestroyedError):
        raise IngestRejectedError(
            "no_snapshot", f"deployment {deployment_id} has no live watch-list snapshot"
        ) from None
    with _SNAPSHOT_IDS_LOCK:
        _SNAPSHOT_IDS[key] = ids
        while len(_SNAPSHOT_IDS) > _SNAPSHOT_IDS_MAX:
            _SNAPSHOT_IDS.popitem(last=False)
    return ids


def check_claim(tx: Tx, claim: DeviceAlertClaim, now: datetime) -> int:
    """The entry id, once every check passed; :class:`IngestRejectedError` otherwise."""
    d = tx.deployments.get(claim.deployment_id)
    if d.state is not DeploymentState.ACTIVE:
        raise GovernanceError(f"deployment {d.id} is {d.state.value}; alerts are refused")
    entry_id = _entry_id(claim.entry_id)
    if entry_id not in _snapshot_entry_ids(tx, d.id):
        raise IngestRejectedError("not_in_snapshot", f"entry {entry_id} is not in deployment {d.id}'s watch list")
    if tx.watchlist.removed_among([entry_id]):  # a tombstone; nothing decrypted
        raise IngestRejectedError("entry_removed", f"entry {entry_id} was removed from the watch list")
    s = claim.similarity
    if not (math.isfinite(s) and d.plan.min_similarity <= s <= 1.0):
        raise IngestRejectedError(
            "similarity_out_of_range",
            f"similarity {s} is outside [{d.plan.min_similarity}, 1] (the authorised threshold and 1)",
        )
    t = claim.raised_at
    if t.tzinfo is None:
        raise IngestRejectedError("bad_time", "alerted_at needs a timezone")
    if t > now + CLOCK_SKEW:
        raise IngestRejectedError(
            "time_in_future", "alerted_at lies in the future (beyond the 120 s allowed clock skew)"
        )
    if not (d.plan.planned_start - CLOCK_SKEW <= t <= d.plan.planned_end + CLOCK_SKEW):
        raise IngestRejectedError("time_outside_window", f"alerted_at lies outside deployment {d.id}'s planned window")
    return entry_id


def check_images(claim: DeviceAlertClaim) -> None:
    """The crop and context image decode as JPEGs within their limits (no database: run it before
    a transaction, so no lock is held while pixels are decoded)."""
    if claim.crop_jpeg is not None:
        check_jpeg(claim.crop_jpeg, what="probe crop", max_bytes=MAX_CROP_BYTES, max_px=MAX_CROP_PX)
    if claim.context_jpeg is not None:
        check_jpeg(claim.context_jpeg, what="context image", max_bytes=MAX_CONTEXT_BYTES, max_px=MAX_CONTEXT_PX)
    if claim.scene_jpeg is not None:
        check_jpeg(claim.scene_jpeg, what="scene frame", max_bytes=MAX_SCENE_BYTES, max_px=MAX_SCENE_PX)


def reject(
    store: Store, claim: DeviceAlertClaim, exc: IngestRejectedError, *, actor: str, token_id: int | None
) -> None:
    """Count and audit a rejected device alert (in its own transaction: the alert's rolled back)."""
    REJECTS.add(exc.code)
    with store.transaction() as tx:
        tx.audit.append(
            actor, "alert.rejected", f"deployment:{claim.deployment_id}", {"reason": exc.code, "token": token_id}
        )


def validate_device_alert(store: Store, claim: DeviceAlertClaim, *, actor: str, token_id: int | None) -> int:
    """Check a device's alert (see module doc); a reject is counted, audited and raised."""
    try:
        check_images(claim)
        with store.transaction() as tx:
            return check_claim(tx, claim, tx.clock.now())
    except IngestRejectedError as exc:
        reject(store, claim, exc, actor=actor, token_id=token_id)
        raise
