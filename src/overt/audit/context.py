"""The credential an action came through, named in every audit entry written while it acts.

A request authenticated by an API token runs inside :func:`acting_through`; every audit entry
appended meanwhile carries ``via_token: <token id>`` next to the real principal in ``actor``.
Sessions and the CLI (a password each time) name no token.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_VIA_TOKEN: ContextVar[int | None] = ContextVar("overt_via_token", default=None)


def current_token_id() -> int | None:
    return _VIA_TOKEN.get()


def set_token_id(token_id: int | None) -> None:
    """For the rest of the current context (an API request): actions come through this token."""
    _VIA_TOKEN.set(token_id)


@contextmanager
def acting_through(token_id: int | None) -> Iterator[None]:
    reset = _VIA_TOKEN.set(token_id)
    try:
        yield
    finally:
        _VIA_TOKEN.reset(reset)
