"""Numbers for people, the same in the HTML report, the console and the CLI.

A rate per 1,000 faces measured on fewer than :data:`MIN_FACES_FOR_RATE` faces says so instead
of a number (two tracks with one false alert are not "500 per 1,000"); very small expected rates
read "under 0.001 (about 1 in N faces)", never an exponent.
"""

from __future__ import annotations

from datetime import datetime

MIN_FACES_FOR_RATE = 1000
"""Below this many faces processed an observed rate is not shown: too few faces to measure."""


def rate_text(per_1000: float | None) -> str:
    """An expected or measured rate per 1,000 faces, for people."""
    if per_1000 is None:
        return "not known"
    if per_1000 == 0:
        return "0"
    if per_1000 < 0.001:
        return f"under 0.001 (about 1 in {round(1000 / per_1000):,} faces)"
    return f"{per_1000:.3f}"


def observed_rate_text(events: int, faces: int) -> str:
    """Observed events per 1,000 faces, or why there is no such number yet."""
    if faces < MIN_FACES_FOR_RATE:
        return f"too few faces to measure ({faces:,} processed; a rate is shown from {MIN_FACES_FOR_RATE:,})"
    return rate_text(1000 * events / faces)


def active_text(started: datetime | None, ended: datetime | None, now: datetime) -> str:
    """How long a deployment ran: "2.5 h", "1.2 h so far (still active)" or "not started"."""
    if started is None:
        return "not started"
    if ended is None:
        return f"{max(0.0, (now - started).total_seconds()) / 3600:.1f} h so far (still active)"
    return f"{max(0.0, (ended - started).total_seconds()) / 3600:.1f} h"
