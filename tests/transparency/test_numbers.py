"""Numbers for people: no exponents, "too few faces to measure", and the same words everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from overt.transparency.numbers import MIN_FACES_FOR_RATE, active_text, observed_rate_text, rate_text


def test_rates_are_worded_for_people() -> None:
    assert rate_text(None) == "not known"
    assert rate_text(0.0) == "0"
    assert rate_text(1.2e-4) == "under 0.001 (about 1 in 8,333,333 faces)"
    assert rate_text(2.5) == "2.500"
    assert "e-" not in rate_text(6.0e-5)


def test_an_observed_rate_needs_enough_faces() -> None:
    assert observed_rate_text(1, 2).startswith("too few faces to measure (2 processed")
    assert str(MIN_FACES_FOR_RATE) in observed_rate_text(1, 2).replace(",", "")
    assert observed_rate_text(3, 2000) == "1.500"


def test_active_time_says_still_active() -> None:
    t0 = datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert active_text(None, None, t0) == "not started"
    assert active_text(t0, None, t0 + timedelta(hours=1.5)) == "1.5 h so far (still active)"
    assert active_text(t0, t0 + timedelta(hours=2), t0 + timedelta(hours=5)) == "2.0 h"
