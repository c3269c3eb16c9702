"""Watch-list entries (provenance) and their images. Templates are never served.

Images go only to watch-list managers (this list) and to operators through an alert
(``/alerts/{id}/watchlist.jpg``); every image view is audited. Uploaded images never touch
the disk unencrypted: they are parsed in memory under the size limit (never spooled to the
temp folder, :mod:`overt.api.uploads`) and stored sealed by the watch-list service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, cast

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from overt.api.deps import services
from overt.api.schemas import EnrolmentOut, EntryOut, Id, QualityOut, RemoveIn
from overt.api.security import allow, current_user
from overt.api.uploads import InMemoryUploadRoute
from overt.domain.users import Permission, Role, User
from overt.domain.watchlist import Category, EntryDetails, EntryProvenance, WatchlistEntry
from overt.errors import ImageError
from overt.vision.imageio import decode_upload, media_type
from overt.watchlist.entries import WatchlistService

router = APIRouter(prefix="/api/v1/watchlist", tags=["watchlist"], route_class=InMemoryUploadRoute)
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


@dataclass(frozen=True)
class _Stat:
    st_size: int


class _MemoryImage:
    """Quacks like the ``Path`` the watch-list service reads, from bytes held in memory."""

    def __init__(self, data: bytes, name: str) -> None:
        self._data = data
        self.name = name

    def stat(self) -> _Stat:
        return _Stat(len(self._data))

    def read_bytes(self) -> bytes:
        return self._data

    def __fspath__(self) -> str:  # pragma: no cover - never opened
        raise ImageError("in-memory upload has no path")

    def __str__(self) -> str:
        return self.name


class _MemoryEngine:
    """The face engine, reading the upload from memory instead of a path."""

    def __init__(self, engine: Any, data: bytes, max_pixels: int) -> None:
        self._engine = engine
        self._data = data
        self._max_pixels = max_pixels
        self.min_similarity = engine.min_similarity

    def read(self, path: object) -> Any:
        return decode_upload(self._data, max_pixels=self._max_pixels)

    def one_face(self, image: Any, **kwargs: Any) -> Any:
        return self._engine.one_face(image, **kwargs)


def _entry(e: WatchlistEntry, with_ref: bool) -> EntryOut:
    p = e.provenance
    return EntryOut(
        id=e.id,
        category=p.category.value,
        legal_basis=p.legal_basis,
        taken_on=p.taken_on,
        review_on=p.review_on,
        under_18=p.under_18,
        added_by=e.added_by,
        added_at=e.added_at,
        model_id=e.model_id,
        removed_at=e.removed_at,
        subject_ref=e.details.subject_ref if with_ref else None,
    )


@router.get("/entries", response_model=list[EntryOut], **allow(Permission.VIEW_WATCHLIST))
def list_entries(request: Request, include_removed: bool = False, user: User = Depends(current_user)) -> list[EntryOut]:
    svc = services(request)
    entries = WatchlistService(svc.store, cast(Any, _NoEngine())).find(user, include_removed=include_removed)
    return [_entry(e, user.can(Permission.MANAGE_WATCHLIST)) for e in entries]


class _NoEngine:
    min_similarity = 0.5


@router.post(
    "/entries",
    response_model=EnrolmentOut,
    status_code=201,
    responses={422: {"description": "Rejected, with the reason (no face, several faces, poor quality, ...)"}},
    **allow(Permission.MANAGE_WATCHLIST),
)
async def add_entry(
    request: Request,
    image: UploadFile = File(description="JPEG, PNG or WebP (at most 40 MP) with exactly one face."),
    subject_ref: str = Form(min_length=1, max_length=64),
    category: Category = Form(),
    reason: str = Form(min_length=1, max_length=2000),
    image_source: str = Form(min_length=1, max_length=2000),
    legal_basis: str = Form(min_length=1, max_length=2000),
    taken_on: date = Form(),
    review_on: date = Form(),
    under_18: bool = Form(default=False),
    under_18_reason: str | None = Form(default=None, max_length=2000),
    confirm_duplicate_of: int | None = Form(
        default=None, ge=1, description="The face looks like this entry; the enroller confirms a different person."
    ),
    user: User = Depends(current_user),
) -> EnrolmentOut:
    """Enrol. A face like an active entry's is refused (409, naming that entry) unless confirmed."""
    svc = services(request)
    limit = svc.settings.max_upload_bytes
    data = await image.read(limit + 1)
    if len(data) > limit:
        raise ImageError(f"image too large (more than {limit} bytes)")
    if not data:
        raise ImageError("empty upload")
    details = EntryDetails(subject_ref, reason, image_source, under_18_reason or None)
    prov = EntryProvenance(category, legal_basis, taken_on, review_on, under_18)
    import anyio.to_thread

    def work() -> EnrolmentOut:
        ws = WatchlistService(svc.store, _MemoryEngine(svc.engine(), data, svc.settings.max_upload_pixels))
        r = ws.add(
            user, cast(Path, _MemoryImage(data, "upload")), details, prov, confirm_duplicate_of=confirm_duplicate_of
        )
        q = r.quality
        return EnrolmentOut(
            entry_id=r.entry_id,
            warnings=list(r.warnings),
            quality=QualityOut(
                size_px=q.size_px, det_score=q.det_score, sharpness=q.sharpness, yaw_deg=q.yaw_deg, roll_deg=q.roll_deg
            ),
        )

    return await anyio.to_thread.run_sync(work)


@router.delete("/entries/{entry_id}", status_code=204, **allow(Permission.MANAGE_WATCHLIST))
def remove_entry(entry_id: Id, body: RemoveIn, request: Request, user: User = Depends(current_user)) -> Response:
    """Remove an entry: its key is destroyed with its image and template (a tombstone stays)."""
    WatchlistService(services(request).store, cast(Any, _NoEngine())).remove(user, entry_id, body.reason)
    return Response(status_code=204)


@router.get(
    "/entries/{entry_id}/image.jpg",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
    **allow(roles=(Role.WATCHLIST_MANAGER,)),
)
def entry_image(entry_id: Id, request: Request, user: User = Depends(current_user)) -> Response:
    """The entry's image (watch-list managers only; audited)."""
    store = services(request).store
    with store.transaction() as tx:
        data = tx.watchlist.image(entry_id)
        tx.audit.append(user.name, "watchlist.image_viewed", f"entry:{entry_id}", {})
    return Response(data, media_type=media_type(data), headers=NO_STORE)
