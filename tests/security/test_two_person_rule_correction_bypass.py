"""Attack: one operator defeats the two-person rule with a correction (or an undo).

Under ``second_person_confirmation`` a true match counts only once a second operator agrees. A
single account used to record "false alert", then a *correction* to "true match", and the true
match stood (and was counted) without anyone else. Now such a correction is only proposed (an
audited event; nothing changes, the counters neither) until a different operator confirms it; the
proposer cannot confirm it; a dispute keeps the verdict. An undo followed by a new verdict is a
first verdict again: a true match is a proposal.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from overt.alerts.followups import AlertFollowups
from overt.alerts.review import AlertService
from overt.api.deps import Services
from overt.domain.clock import FakeClock
from overt.domain.users import Role, User
from overt.errors import GovernanceError
from overt.store import Store
from overt.transparency.report import deployment_report
from overt.users import UserService
from tests.api.conftest import Running
from tests.api.helpers import active_deployment, alert_body, device_client, enrol_yaoming
from tests.gov_helpers import started_with_alerts


def _world(store: Store, clock: FakeClock) -> tuple[dict[str, User], int, list[int]]:
    store.policy = replace(store.policy, second_person_confirmation=True)  # the data directory's policy
    u, dep, ids = started_with_alerts(store, clock.now(), 3)
    u["op2"] = UserService(store).add(u["admin"], "op2", Role.OPERATOR, "op2-pass-phrase")
    return u, dep, ids


def _counts(store: Store, deployment_id: int) -> tuple[int, int, int]:
    r = deployment_report(store, deployment_id, audit=False)
    return r.true_alerts, r.false_alerts, r.unadjudicated_alerts


def _actions(store: Store, alert_id: int) -> list[tuple[str, str]]:
    with store.transaction() as tx:
        return [(e.action, e.actor) for e in tx.audit.entries() if e.target == f"alert:{alert_id}"]


def test_one_operator_cannot_correct_a_false_alert_into_a_true_match(store: Store, clock: FakeClock) -> None:
    u, dep, (a, b, _) = _world(store, clock)
    svc, f = AlertService(store), AlertFollowups(store)
    _, counted = svc.adjudicate(u["op"], a, "false_match")
    assert counted  # a false alert needs no second person
    assert _counts(store, dep) == (0, 1, 2)
    ev = f.correct_verdict(u["op"], a, "true_match", "looked again")
    assert (ev.kind, ev.value, ev.by) == ("corr_proposed", "true_match", "op")
    v = svc.get(a)
    assert v.adjudication == "false_match"  # the verdict stays as it was
    assert _counts(store, dep) == (0, 1, 2)  # and so do the counters
    assert ("alert.correction_proposed", "op") in _actions(store, a)
    assert "alert.verdict_corrected" not in [x for x, _ in _actions(store, a)]
    with pytest.raises(GovernanceError, match="you proposed it"):
        f.correct_verdict(u["op"], a, "true_match", "me again")  # the proposer cannot confirm it
    assert svc.get(a).adjudication == "false_match"
    # a second, different operator confirms it: now it counts
    f.correct_verdict(u["op2"], a, "true_match", "agreed")
    v = svc.get(a)
    assert v.adjudication == "true_match"
    assert [(e.kind, e.by) for e in v.events] == [("corr_proposed", "op"), ("correction", "op2")]
    assert _counts(store, dep) == (1, 0, 2)
    acts = _actions(store, a)
    assert ("alert.correction_confirmed", "op2") in acts
    assert ("alert.verdict_corrected", "op2") in acts
    # a correction back to a false alert is not covered by the rule (as for a first verdict)
    f.correct_verdict(u["op"], a, "false_match", "wrong after all")
    assert svc.get(a).adjudication == "false_match"
    assert _counts(store, dep) == (0, 1, 2)
    # a second person who disagrees disputes the proposal: the verdict stays
    svc.adjudicate(u["op"], b, "false_match")
    f.correct_verdict(u["op"], b, "true_match", "looked again")
    f.correct_verdict(u["op2"], b, "false_match", "it is not them")
    v = svc.get(b)
    assert v.adjudication == "false_match"
    assert v.events[-1].kind == "corr_disputed"
    assert ("alert.correction_disputed", "op2") in _actions(store, b)
    assert _counts(store, dep) == (0, 2, 1)
    # disputed: nothing is pending, so the proposer's next correction is a new proposal, not a confirmation
    ev = f.correct_verdict(u["op"], b, "true_match", "again")
    assert ev.kind == "corr_proposed"
    assert svc.get(b).adjudication == "false_match"


def test_undo_then_a_new_verdict_still_needs_a_second_person(store: Store, clock: FakeClock) -> None:
    u, dep, (a, _, _) = _world(store, clock)
    svc, f = AlertService(store), AlertFollowups(store)
    svc.adjudicate(u["op"], a, "false_match")
    f.undo(u["op"], a)
    v, counted = svc.adjudicate(u["op"], a, "true_match", "engaged")
    assert not counted
    assert v.adjudication is None
    assert svc.get(a).pending is not None
    assert _counts(store, dep) == (0, 0, 3)
    with pytest.raises(GovernanceError, match="you proposed it"):
        svc.adjudicate(u["op"], a, "true_match")
    _, counted = svc.adjudicate(u["op2"], a, "true_match")
    assert counted
    assert _counts(store, dep) == (1, 0, 2)


def test_a_pending_correction_is_settled_by_an_undo_of_the_verdict(store: Store, clock: FakeClock) -> None:
    u, _, (a, _, _) = _world(store, clock)
    svc, f = AlertService(store), AlertFollowups(store)
    svc.adjudicate(u["op"], a, "false_match")
    f.correct_verdict(u["op"], a, "true_match", "looked again")
    f.undo(u["op"], a)  # the verdict (within its window) is undone: the proposal goes with it
    svc.adjudicate(u["op"], a, "false_match")
    f.correct_verdict(u["op2"], a, "true_match", "agreed?")  # not a confirmation of the old proposal
    assert svc.get(a).adjudication == "false_match"


def test_the_correction_bypass_over_http(running: Running) -> None:
    svc: Services = running.server.app.state.services
    svc.alerts.second_person = True  # as ``overt serve --second-person``: corrections follow it too
    try:
        entry, dep = enrol_yaoming(running), active_deployment(running)
        dev = device_client(running, dep)
        a = dev.post("/api/v1/ingest/alerts", json=alert_body(entry)).json()["alert_id"]
        dev.close()
        op, op2 = running.login("op"), running.login("op2")
        report = f"/api/v1/reports/deployments/{dep}"
        r = op.post(f"/api/v1/alerts/{a}/adjudication", json={"verdict": "false_match"})
        assert r.json()["counted"] is True
        before = op.get(report).json()
        fix = {"kind": "correction", "verdict": "true_match", "reason": "looked again"}
        r = op.post(f"/api/v1/alerts/{a}/followups", json=fix)
        assert r.status_code == 200
        assert r.json()["adjudication"] == "false_match"
        assert r.json()["events"][-1]["kind"] == "corr_proposed"
        assert op.get(report).json()["true_alerts"] == before["true_alerts"]
        r = op.post(f"/api/v1/alerts/{a}/followups", json=fix)
        assert r.status_code == 409  # the proposer cannot confirm their own
        assert "second person" in r.text
        r = op2.post(f"/api/v1/alerts/{a}/followups", json={**fix, "reason": "agreed"})
        assert r.status_code == 200
        assert r.json()["adjudication"] == "true_match"
        after = op.get(report).json()
        assert (after["true_alerts"], after["false_alerts"]) == (
            before["true_alerts"] + 1,
            before["false_alerts"] - 1,
        )
        op.close()
        op2.close()
    finally:
        svc.alerts.second_person = False
