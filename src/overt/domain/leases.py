"""A fencing token: the lease epoch a leader writes under (pure; no database).

Each acquisition of a lease by a new holder increments the lease's epoch in the database. A
leader carries the epoch it was given on every write it makes for the work; the store accepts
the write only while the lease still has that epoch, so a leader that was paused (not dead) past
its lease cannot write once another worker has taken over.
"""

from __future__ import annotations

from dataclasses import dataclass

from overt.errors import InputError


@dataclass(frozen=True, slots=True)
class Fence:
    """The lease ``name`` held at ``token`` (its epoch, 1 for the first holder)."""

    name: str
    token: int

    def __post_init__(self) -> None:
        if not self.name or len(self.name) > 64:
            raise InputError("a lease name has 1 to 64 characters")
        if self.token < 1:
            raise InputError("a fencing token is a positive lease epoch")
