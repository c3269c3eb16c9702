"""Governed watch-list entries: provenance, enrolment quality gate, duplicate/look-alike warnings.

The image and its template are stored only encrypted (under the subject's data key); the
subject reference and reason too. The audit log records entry ids and categories, never them.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from overt.domain.faces import Face
from overt.domain.quality import FaceQuality, QualityGate
from overt.domain.templates import cosine_similarity
from overt.domain.users import Permission, User
from overt.domain.watchlist import EntryDetails, EntryProvenance, WatchlistEntry, validate_entry
from overt.errors import GovernanceError, ImageError, InputError, StorageError
from overt.store.store import Store
from overt.vision.imageio import check_upload
from overt.watchlist.snapshots import revoked_in

MAX_IMAGE_BYTES = 20 * 1024 * 1024
FacePick = Literal["one", "largest", "centre", "dominant"]
FaceMark = int | tuple[float, float, float, float]
"""A face marked by the manager: its index as ``overt faces`` lists it, or its box (x1, y1, x2, y2) px."""


class Enroller(Protocol):
    """What enrolment needs from :class:`overt.vision.engine.FaceEngine` (a fake in tests)."""

    min_similarity: float

    def read(self, path: str | Path) -> npt.NDArray[np.uint8]: ...

    def one_face(
        self,
        image: npt.NDArray[np.uint8],
        *,
        pick: FacePick = "one",
        gate: QualityGate | None = None,
        what: str = "image",
        mark: FaceMark | None = None,
    ) -> Face: ...


@dataclass(frozen=True, slots=True)
class EnrolmentResult:
    entry_id: int
    quality: FaceQuality
    warnings: tuple[str, ...]


def _read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_IMAGE_BYTES:
            raise ImageError(f"{path}: image too large ({size} bytes > {MAX_IMAGE_BYTES})")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImageError(f"{path}: is a directory") from None
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise StorageError("no space left on device") from None
        raise ImageError(f"{path}: cannot read ({exc.strerror})") from None
    if not data:
        raise ImageError(f"{path}: empty file")
    return data


class DuplicateFaceError(GovernanceError):
    """The face looks like an active entry's; enrolling it needs an explicit confirmation."""

    def __init__(self, entry_id: int, message: str) -> None:
        super().__init__(message)
        self.entry_id = entry_id


class WatchlistService:
    def __init__(self, store: Store, engine: Enroller, *, duplicate_min_similarity: float | None = None) -> None:
        self.store = store
        self.engine = engine
        self.duplicate_min_similarity = (
            engine.min_similarity if duplicate_min_similarity is None else duplicate_min_similarity
        )

    def add(
        self,
        actor: User,
        image_path: Path,
        details: EntryDetails,
        prov: EntryProvenance,
        *,
        mark: FaceMark | None = None,
        confirm_duplicate_of: int | None = None,
    ) -> EnrolmentResult:
        """Enrol one subject. The image must show exactly one face, unless the manager marks the face
        (``mark``: its index as ``overt faces`` lists it, or its box); the mark is audited. A face that
        looks like an active entry is refused (nothing saved) with that entry's number and reference,
        unless ``confirm_duplicate_of`` names that entry: the person enrolling confirms they are
        different people (the confirmation is audited)."""
        actor.require(Permission.MANAGE_WATCHLIST)
        validate_entry(details, prov, self.store.clock.now().date())
        with self.store.transaction() as tx:
            if tx.watchlist.ref_exists(details.subject_ref):
                raise InputError("duplicate subject reference: an active entry already uses it (remove it first)")
        data = _read_bytes(image_path)
        check_upload(data, name="watch-list image")  # JPEG/PNG/WebP, <= 40 MP, from the header
        image = self.engine.read(image_path)
        gate = QualityGate.for_enrolment()
        if mark is None:
            face = self.engine.one_face(image, pick="one", gate=gate, what="watch-list image")
        else:
            face = self.engine.one_face(image, pick="one", gate=gate, what="watch-list image", mark=mark)
        if face.template is None:
            raise InputError("the engine returned a face without a template")
        template = face.template
        warnings: list[str] = []
        with self.store.transaction() as tx:
            lookalikes: list[tuple[float, int]] = []
            for eid in tx.watchlist.active_ids():
                other = tx.watchlist.template(eid)
                if other.model_id != template.model_id or other.dim != template.dim:
                    continue
                sim = cosine_similarity(template, other)
                if sim >= self.duplicate_min_similarity:
                    lookalikes.append((sim, eid))
            lookalikes.sort(reverse=True)
            # One confirmation covers every look-alike found with it: the person enrolling saw the
            # refusal naming them all (a face like two entries must stay enrollable).
            if lookalikes and confirm_duplicate_of not in {eid for _, eid in lookalikes}:
                sim, eid = lookalikes[0]
                named = ", ".join(
                    f"#{e} ({tx.watchlist.get(e).details.subject_ref}) at similarity {s_:.2f}" for s_, e in lookalikes
                )
                raise DuplicateFaceError(
                    eid,
                    f"this face looks like watch-list entry {named} (>= "
                    f"{self.duplicate_min_similarity:.2f}). Nothing was saved. If they are different people, "
                    f"enrol again confirming it (console: confirm; CLI: --confirm-duplicate-of {eid})",
                )
            for sim, eid in lookalikes:
                warnings.append(
                    f"possible duplicate: looks like watch-list entry {eid} (similarity {sim:.2f} >= "
                    f"{self.duplicate_min_similarity:.2f}); if they are different people they cannot be "
                    "told apart at this threshold"
                )
            entry_id = tx.watchlist.add(
                details, prov, image=data, template=template, added_by=actor.name, now=tx.clock.now()
            )
            tx.audit.append(
                actor.name,
                "watchlist.entry_added",
                f"entry:{entry_id}",
                {
                    "category": prov.category.value,
                    "under_18": prov.under_18,
                    "review_on": prov.review_on.isoformat(),
                    "warnings": len(warnings),
                    "face_marked": mark is not None,
                    **({"confirmed_not_duplicate_of": confirm_duplicate_of} if confirm_duplicate_of else {}),
                },
            )
        return EnrolmentResult(entry_id, face.quality, tuple(warnings))

    def remove(self, actor: User, entry_id: int, reason: str) -> None:
        actor.require(Permission.MANAGE_WATCHLIST)
        if not reason.strip():
            raise InputError("removing an entry needs a reason (--reason)")
        with self.store.transaction() as tx:
            entry = tx.watchlist.get(entry_id)
            tx.watchlist.remove(entry_id, by=actor.name, now=tx.clock.now(), reason=reason.strip())
            tx.audit.append(
                actor.name,
                "watchlist.entry_removed",
                f"entry:{entry_id}",
                {"data_destroyed": True, "reason_sealed": True},
            )
            # The removal is a tombstone every running deployment checks (within seconds); each
            # deployment whose sealed snapshot holds the entry records that it is revoked there.
            for dep_id in revoked_in(tx, entry):
                tx.audit.append(actor.name, "snapshot.entry_revoked", f"deployment:{dep_id}", {"entry": entry_id})
        self.store.db.checkpoint()

    def removal_reason(self, actor: User, entry_id: int) -> str | None:
        """The sealed reason an entry was removed for (audited read)."""
        actor.require(Permission.VIEW_AUDIT)
        with self.store.transaction() as tx:
            reason = tx.watchlist.removal_reason(entry_id)
            tx.audit.append(actor.name, "watchlist.removal_reason_viewed", f"entry:{entry_id}", {})
            return reason

    def find(self, actor: User, *, include_removed: bool = False) -> list[WatchlistEntry]:
        actor.require(Permission.VIEW_WATCHLIST)
        with self.store.transaction() as tx:
            entries = tx.watchlist.find(active_only=not include_removed)
            tx.audit.append(actor.name, "watchlist.viewed", "watchlist", {"entries": len(entries)})
            return entries

    def due_for_review(self, actor: User) -> list[WatchlistEntry]:
        actor.require(Permission.VIEW_WATCHLIST)
        with self.store.transaction() as tx:
            entries = tx.watchlist.due_for_review(tx.clock.now().date())
            tx.audit.append(actor.name, "watchlist.reviewed", "watchlist", {"due": len(entries)})
            return entries
