"""The frame source protocol. Live sources drop the oldest frames; files deliver every frame."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from overt.domain.frames import Frame


@dataclass(frozen=True, slots=True)
class SourceStats:
    """Counters of one source. ``frames_dropped`` counts frames discarded by drop-oldest.

    ``frames_skipped`` counts inputs that could not be decoded and were passed over (an
    unreadable image of a folder); ``reconnects`` counts attempts to reopen a live stream.
    """

    camera_id: str
    frames_read: int
    frames_dropped: int
    reconnects: int
    connected: bool
    exhausted: bool
    last_error: str | None = None
    frames_skipped: int = 0
    tls_pin_refusals: int = 0
    """Opens refused because the camera presented another certificate than the pinned one."""


@runtime_checkable
class FrameSource(Protocol):
    """A camera or file delivering :class:`Frame` objects.

    ``start`` opens it (a reader thread for live sources); ``read`` waits at most ``timeout_s``
    and returns ``None`` when no frame came in time or the source is exhausted (check
    ``stats().exhausted``); ``close`` stops every thread it started and never hangs.
    """

    camera_id: str
    live: bool

    def start(self) -> None: ...

    def read(self, timeout_s: float) -> Frame | None: ...

    def stats(self) -> SourceStats: ...

    def close(self) -> None: ...
