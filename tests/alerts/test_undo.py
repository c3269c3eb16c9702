"""Undo on the server: a new audited event within the window, by the person who decided; never an edit.

And the reports count what stands after corrections, later outcomes and undos (``alerts.verdicts``).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from overt.alerts.followups import AlertFollowups
from overt.alerts.review import AlertService
from overt.domain.clock import FakeClock
from overt.domain.users import Role, User
from overt.errors import AuthError, GovernanceError, InputError
from overt.store import Store
from overt.store.datadir import DataDirConfig
from overt.transparency.report import deployment_report, render_html
from overt.users import UserService
from tests.gov_helpers import started_with_alerts


def _world(store: Store, clock: FakeClock, n: int = 3) -> tuple[dict[str, User], int, list[int]]:
    u, dep, ids = started_with_alerts(store, clock.now(), n)
    u["op2"] = UserService(store).add(u["admin"], "op2", Role.OPERATOR, "op2-pass-phrase")
    return u, dep, ids


def _audit(store: Store, alert_id: int) -> list[tuple[str, str, dict[str, object]]]:
    with store.transaction() as tx:
        return [(e.action, e.actor, dict(e.details)) for e in tx.audit.entries() if e.target == f"alert:{alert_id}"]


def _counts(store: Store, deployment_id: int) -> tuple[int, int, int]:
    r = deployment_report(store, deployment_id, audit=False)
    return r.true_alerts, r.false_alerts, r.unadjudicated_alerts


def test_the_decider_undoes_within_the_window_as_a_new_event_and_the_alert_is_open_again(
    store: Store, clock: FakeClock
) -> None:
    u, dep, (a, b, _) = _world(store, clock)
    svc, f = AlertService(store), AlertFollowups(store)
    view, counted = svc.adjudicate(u["op"], a, "false_match")
    assert counted
    assert view.adjudicated_at is not None
    assert view.undo_until == view.adjudicated_at + timedelta(seconds=10)
    assert _counts(store, dep) == (0, 1, 2)
    with pytest.raises(AuthError, match="only the operator who recorded"):
        f.undo(u["op2"], a)  # someone else may not
    clock.advance(timedelta(seconds=9))
    f.undo(u["op"], a)
    v = svc.get(a)
    assert (v.adjudication, v.adjudicated_by, v.undo_until) == (None, None, None)
    assert [(e.kind, e.value, e.by) for e in v.events] == [("undone", "verdict", "op")]
    assert a in [x.id for x in svc.list(open_only=True)]
    assert _counts(store, dep) == (0, 0, 3)
    with store.transaction() as tx:
        assert tx.alerts.get(a).adjudication == "false_match"  # the verdict row is not edited
    acts = _audit(store, a)
    assert ("alert.adjudicated", "op", {"verdict": "false_match", "engaged": False, "outcome": None}) in acts
    assert acts[-1] == ("alert.verdict_undone", "op", {"undid": "verdict", "verdict": "false_match"})
    with pytest.raises(GovernanceError, match="no verdict to undo"):
        f.undo(u["op"], a)
    with pytest.raises(InputError, match="no verdict yet"):
        f.record_outcome(u["op"], a, "no_action")
    # decided again (by someone else): a new event beside the first; counted once
    v, counted = svc.adjudicate(u["op2"], a, "true_match", "arrested")
    assert counted
    assert (v.adjudication, v.outcome, v.engaged, v.adjudicated_by) == (
        "true_match",
        "arrested",
        True,
        "op2",
    )
    assert [e.kind for e in v.events] == ["undone", "verdict"]
    assert _counts(store, dep) == (1, 0, 2)
    with pytest.raises(InputError, match="already adjudicated"):
        svc.adjudicate(u["op"], a, "false_match")
    with pytest.raises(AuthError):
        f.undo(u["op"], a)  # op2's verdict now
    # after the window: a clear refusal (409 at the API) that says to record a correction
    AlertService(store).adjudicate(u["op"], b, "true_match")
    clock.advance(timedelta(seconds=10, milliseconds=1))
    with pytest.raises(GovernanceError, match=r"undo window \(10 s\) has passed: record a correction"):
        f.undo(u["op"], b)
    assert svc.get(b).undo_until is not None
    # a corrected verdict is not undone: it is corrected again
    f.correct_verdict(u["op2"], a, "false_match", "custody photo shows another person")
    with pytest.raises(GovernanceError, match="corrected since"):
        f.undo(u["op2"], a)


def test_the_window_comes_from_the_data_directory_config() -> None:
    assert DataDirConfig().policy().undo_window == timedelta(seconds=10)
    assert DataDirConfig(undo_window_s=3).policy().undo_window == timedelta(seconds=3)
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        DataDirConfig(undo_window_s=-1)
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        DataDirConfig.model_validate({"undo_window_secs": 3})  # the strict tree: unknown keys fail


def test_two_person_rule_a_proposal_is_withdrawn_by_its_proposer_a_confirmation_by_its_confirmer(
    store: Store, clock: FakeClock
) -> None:
    u, dep, (a, b, _) = _world(store, clock)
    svc, f = AlertService(store, second_person=True), AlertFollowups(store)
    # a pending proposal: only its proposer withdraws it, within the window; nothing was counted
    _, counted = svc.adjudicate(u["op"], a, "true_match", "engaged")
    assert not counted
    assert svc.get(a).pending is not None
    with pytest.raises(AuthError, match="who proposed"):
        f.undo(u["op2"], a)
    f.undo(u["op"], a)
    v = svc.get(a)
    assert (v.pending, v.adjudication) == (None, None)
    assert _audit(store, a)[-1] == ("alert.verdict_undone", "op", {"undid": "proposal", "verdict": "true_match"})
    assert _counts(store, dep) == (0, 0, 3)
    # an old proposal stays for a second person to confirm or dispute
    svc.adjudicate(u["op"], b, "true_match")
    clock.advance(timedelta(seconds=11))
    with pytest.raises(GovernanceError, match="a second person confirms or disputes"):
        f.undo(u["op"], b)
    # confirmed: the verdict is the confirmer's; the proposer may not undo it alone
    v, counted = svc.adjudicate(u["op2"], b, "true_match")
    assert counted
    assert v.adjudicated_by == "op2"
    assert _counts(store, dep) == (1, 0, 2)
    with pytest.raises(AuthError):
        f.undo(u["op"], b)
    f.undo(u["op2"], b)  # the confirmer, within the window: open again, the proposal used up
    v = svc.get(b)
    assert (v.adjudication, v.pending) == (None, None)
    assert _counts(store, dep) == (0, 0, 3)
    # a true match still needs two people: one person's verdict is a proposal again
    _, counted = svc.adjudicate(u["op2"], b, "true_match")
    assert not counted
    assert svc.get(b).pending is not None
    _, counted = svc.adjudicate(u["op"], b, "true_match")
    assert counted
    assert _counts(store, dep) == (1, 0, 2)


def test_reports_count_the_verdict_that_stands_and_outcomes_recorded_later(store: Store, clock: FakeClock) -> None:
    u, dep, (a, b, c) = _world(store, clock)
    svc, f = AlertService(store), AlertFollowups(store)
    svc.adjudicate(u["op"], a, "true_match", "engaged")
    svc.adjudicate(u["op"], b, "true_match")
    assert _counts(store, dep) == (2, 0, 1)
    f.correct_verdict(u["op"], a, "false_match", "custody photo shows another person")
    assert _counts(store, dep) == (1, 1, 1)  # the correction counts, not the first verdict
    f.record_outcome(u["op"], b, "arrested")  # learnt later
    r = deployment_report(store, dep, audit=False)
    assert (r.engagements, r.outcomes) == (2, {"arrested": 1, "engaged": 1})
    assert "arrested: 1" in render_html(r)
    assert "<tr><th>False alerts</th><td>1</td></tr>" in render_html(r)
    svc.adjudicate(u["op"], c, "false_match")
    f.undo(u["op"], c)  # undone: not adjudicated
    assert _counts(store, dep) == (1, 1, 1)
    f.correct_verdict(u["op"], a, "true_match", "second look: it is the person")
    f.record_outcome(u["op"], a, "no_action")
    r = deployment_report(store, dep, audit=False)
    assert (r.true_alerts, r.false_alerts, r.unadjudicated_alerts) == (2, 0, 1)
    assert (r.engagements, r.outcomes) == (1, {"arrested": 1, "no_action": 1})
