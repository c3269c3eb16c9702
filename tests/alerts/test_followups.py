"""Steps after a verdict are new audited events, never edits (``overt.alerts.followups``)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from overt.alerts.followups import AlertFollowups
from overt.alerts.review import AlertService
from overt.domain.clock import FakeClock
from overt.domain.users import User
from overt.errors import AuthError, InputError
from overt.retention import purge, retain_alert
from overt.store import Store
from tests.gov_helpers import started_with_alerts


def _alerts(store: Store, clock: FakeClock) -> tuple[dict[str, User], list[int]]:
    u, _, ids = started_with_alerts(store, clock.now())
    return u, ids


def _actions(store: Store) -> list[tuple[str, str]]:
    with store.transaction() as tx:
        return [(e.action, e.target) for e in tx.audit.entries()]


def test_outcome_correction_and_retention_are_appended_and_audited(store: Store, clock: FakeClock) -> None:
    u, (a, b, c) = _alerts(store, clock)
    f = AlertFollowups(store)
    with pytest.raises(InputError, match="no verdict yet"):
        f.record_outcome(u["op"], a, "arrested")
    AlertService(store).adjudicate(u["op"], a, "true_match", "engaged")
    f.record_outcome(u["op"], a, "arrested")
    f.correct_verdict(u["op"], a, "false_match", "the custody record shows another person")
    f.retain(u["op"], a, reason="complaint received", days=30)
    events = f.events([a])[a]
    assert [(e.kind, e.value, e.by) for e in events][:2] == [
        ("outcome", "arrested", "op"),
        ("correction", "false_match", "op"),
    ]
    assert events[2].kind == "retained"
    with store.transaction() as tx:
        row = tx.alerts.get(a)
    assert (row.adjudication, row.outcome) == ("true_match", "engaged")  # the verdict itself is not edited
    assert row.retained_until is not None
    acts = _actions(store)
    for action in ("alert.adjudicated", "alert.outcome_added", "alert.verdict_corrected", "alert.retained"):
        assert (action, f"alert:{a}") in acts
    # a false alert has no outcome but no action; an auditor records nothing
    AlertService(store).adjudicate(u["op"], b, "false_match")
    with pytest.raises(InputError, match="no outcome"):
        f.record_outcome(u["op"], b, "arrested")
    with pytest.raises(AuthError):
        f.record_outcome(u["aud"], b, "no_action")
    with pytest.raises(InputError, match="reason"):
        f.correct_verdict(u["op"], b, "true_match", "  ")
    assert f.sightings([a, b, c]) == {a: 3, b: 3, c: 3}


def test_purge_removes_the_later_steps_with_the_alert(store: Store, clock: FakeClock) -> None:
    u, (a, _, _) = _alerts(store, clock)
    f = AlertFollowups(store)
    AlertService(store).adjudicate(u["op"], a, "false_match")
    f.correct_verdict(u["op"], a, "true_match", "second look at the custody photo")
    clock.advance(timedelta(days=3))
    assert a in purge(store, "admin").alerts
    assert f.events([a]) == {}


def test_case_facts_need_the_adjudicate_permission_and_the_view_is_audited(store: Store, clock: FakeClock) -> None:
    u, (a, _, _) = _alerts(store, clock)
    with pytest.raises(AuthError):
        AlertFollowups(store).case(u["aud"], a)


def test_retention_is_for_the_chosen_period_within_the_services_bounds(store: Store, clock: FakeClock) -> None:
    u, (a, b, _) = _alerts(store, clock)
    f = AlertFollowups(store)
    for days in (0, -3, 1096):
        with pytest.raises(InputError, match=f"1 to 1,095 days, not {days:,}"):
            f.retain(u["op"], a, reason="complaint received", days=days)
    with pytest.raises(InputError, match="at most 1,095 days"):  # the CLI's --until: the same bound
        retain_alert(store, u["op"], b, reason="complaint received", until=clock.now() + timedelta(days=1096))
    f.retain(u["op"], a, reason="complaint received", days=45)
    with store.transaction() as tx:
        entry = [e for e in tx.audit.entries() if e.action == "alert.retained"][-1]
    assert (entry.target, entry.details["days"]) == (f"alert:{a}", 45)
