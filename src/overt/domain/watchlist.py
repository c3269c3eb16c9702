"""Watch-list entries and snapshots as pure types. Sensitive fields have redacted ``repr``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from overt.domain.templates import Template
from overt.errors import InputError


class Category(StrEnum):
    WANTED_BY_COURT = "wanted_by_court"
    WANTED_SUSPECT = "wanted_suspect"
    MISSING_PERSON = "missing_person"
    VULNERABLE_PERSON = "vulnerable_person"
    VICTIM_OR_WITNESS = "victim_or_witness"
    OTHER = "other"


def parse_category(value: str) -> Category:
    try:
        return Category(value.strip().lower().replace("-", "_").replace(" ", "_"))
    except ValueError:
        choices = ", ".join(c.value for c in Category)
        raise InputError(f"unknown category {value!r}; choose one of: {choices}") from None


def parse_date(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"{name}: {value!r} is not a date (use YYYY-MM-DD)") from None


def parse_datetime(name: str, value: str) -> datetime:
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"{name}: {value!r} is not a date-time (use e.g. 2026-05-01T10:00+01:00)") from None
    if dt.tzinfo is None:
        raise InputError(f"{name}: {value!r} has no timezone (add e.g. +00:00 or Z)")
    return dt


@dataclass(frozen=True, slots=True)
class EntryDetails:
    """The sensitive part of an entry, stored only encrypted. ``repr`` shows nothing."""

    subject_ref: str
    reason: str
    image_source: str
    under_18_reason: str | None = None

    def __post_init__(self) -> None:
        ref = self.subject_ref.strip()
        if not ref:
            raise InputError("subject reference must not be empty")
        if len(ref) > 64:
            raise InputError("subject reference must be at most 64 characters (a case reference)")
        if not self.reason.strip():
            raise InputError("reason must not be empty")
        if not self.image_source.strip():
            raise InputError("image source must not be empty")

    def __repr__(self) -> str:
        return "EntryDetails(<redacted>)"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class EntryProvenance:
    category: Category
    legal_basis: str
    taken_on: date
    review_on: date
    under_18: bool = False

    def __post_init__(self) -> None:
        if not self.legal_basis.strip():
            raise InputError("legal basis for the image must not be empty")
        if self.review_on <= self.taken_on:
            raise InputError("review date must be after the date the image was taken")


def validate_entry(details: EntryDetails, prov: EntryProvenance, today: date) -> None:
    if prov.taken_on > today:
        raise InputError(f"date taken {prov.taken_on.isoformat()} is in the future")
    if prov.review_on <= today:
        raise InputError(f"review date {prov.review_on.isoformat()} has already passed")
    if prov.under_18 and not (details.under_18_reason and details.under_18_reason.strip()):
        raise InputError("an under-18 subject needs an explicit reason (--under-18-reason)")
    if not prov.under_18 and details.under_18_reason:
        raise InputError("--under-18-reason given without --under-18")


@dataclass(frozen=True, slots=True)
class WatchlistEntry:
    id: int
    details: EntryDetails
    provenance: EntryProvenance
    added_by: str
    added_at: datetime
    model_id: str
    removed_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.removed_at is None


@dataclass(frozen=True, slots=True)
class SnapshotSubject:
    entry_id: int
    subject_ref: str = field(repr=False)
    category: Category
    template: Template


@dataclass(frozen=True, slots=True)
class WatchlistSnapshot:
    """The frozen watch list a deployment was authorised with (decrypted, in memory only)."""

    deployment_id: int
    model_id: str
    subjects: tuple[SnapshotSubject, ...]

    def __len__(self) -> int:
        return len(self.subjects)
