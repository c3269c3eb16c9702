from __future__ import annotations

import pytest

from overt.domain.alerts import Candidate
from overt.errors import ConfigError
from overt.matching import Decider
from overt.matching.decider import default_min_similarity

KEY = ("cam", 1)


def c(subject: str, sim: float) -> Candidate:
    return Candidate(subject, sim, 1)


def test_alerts_on_k_of_n_agreeing_probes_once() -> None:
    d = Decider(min_similarity=0.4, min_votes=2, window=3)
    first = d.observe(KEY, c("a", 0.6))
    assert not first.alert
    assert "1 of 2" in first.reason
    second = d.observe(KEY, c("a", 0.5))
    assert second.alert
    assert second.subject == "a"
    assert second.similarity == 0.5
    assert second.votes == 2
    assert not d.observe(KEY, c("a", 0.7)).alert  # at most one alert per track and subject
    assert d.has_alerted(KEY)
    assert d.alerted_subjects(KEY) == frozenset({"a"})


def test_abstains_below_threshold_and_on_disagreement() -> None:
    d = Decider(min_similarity=0.4, min_votes=2, window=3)
    assert not d.observe(KEY, c("a", 0.39)).alert
    assert not d.observe(KEY, c("b", 0.9)).alert
    assert not d.observe(KEY, c("a", 0.9)).alert  # a, b, a: only one 'a' vote above the threshold
    assert d.observe(KEY, c("a", 0.41)).alert  # window now b, a, a


def test_votes_expire_with_the_window() -> None:
    d = Decider(min_similarity=0.4, min_votes=2, window=2)
    d.observe(KEY, c("a", 0.9))
    d.observe(KEY, None)
    assert not d.observe(KEY, c("a", 0.9)).alert  # window = [None, a]
    assert d.observe(KEY, c("a", 0.9)).alert


def test_tracks_are_independent_and_forgotten() -> None:
    d = Decider(min_similarity=0.4, min_votes=2, window=3)
    d.observe(("cam", 1), c("a", 0.9))
    assert not d.observe(("cam", 2), c("a", 0.9)).alert
    assert not d.observe(("other", 1), c("a", 0.9)).alert
    d.forget(("cam", 1))
    assert d.active_tracks == 2
    assert not d.observe(("cam", 1), c("a", 0.9)).alert


def test_another_subject_on_the_same_track_may_alert_too() -> None:
    d = Decider(min_similarity=0.4, min_votes=1, window=1)
    assert d.observe(KEY, c("a", 0.9)).alert
    assert d.observe(KEY, c("b", 0.9)).alert
    assert not d.observe(KEY, c("a", 0.9)).alert


def test_invalid_settings_and_defaults() -> None:
    with pytest.raises(ConfigError):
        Decider(min_similarity=0.4, min_votes=4, window=3)
    with pytest.raises(ConfigError):
        Decider(min_similarity=2.0)
    assert default_min_similarity("arcface_w600k_mbf", fallback=0.3) > 0.3
    assert default_min_similarity("unknown", fallback=0.3) == 0.3
