from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from overt.domain.deployments import Deployment, DeploymentState
from overt.errors import GovernanceError, InputError
from tests.gov_helpers import plan

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
LEAD = timedelta(hours=24)


def _draft() -> Deployment:
    return Deployment(1, DeploymentState.DRAFT, plan(T0), created_by="op", created_at=T0)


def _ready() -> Deployment:
    """Authorised, notice published a day before the planned start."""
    return _draft().authorise("officer", T0 - LEAD).publish_notice("op", T0 - LEAD)


def test_happy_path() -> None:
    d = _ready()
    assert d.state is DeploymentState.AUTHORISED
    d = d.start(T0 + timedelta(minutes=1), notice_lead_time=LEAD)
    assert d.state is DeploymentState.ACTIVE
    d = d.stop(T0 + timedelta(hours=1))
    d = d.start(T0 + timedelta(hours=2), notice_lead_time=LEAD)
    d = d.close(T0 + timedelta(hours=3))
    assert d.state is DeploymentState.CLOSED
    assert d.stop_reason == "closed"


def test_creator_cannot_authorise() -> None:
    with pytest.raises(GovernanceError, match="second person"):
        _draft().authorise("op", T0)


def test_cannot_start_without_authorisation_notice_or_outside_window() -> None:
    with pytest.raises(GovernanceError, match="must be authorised"):
        _draft().start(T0, notice_lead_time=LEAD)
    with pytest.raises(GovernanceError, match="notice has not been published"):
        _draft().authorise("officer", T0).start(T0, notice_lead_time=LEAD)
    auth = _ready()
    with pytest.raises(GovernanceError, match="before its planned start"):
        auth.start(T0 - timedelta(seconds=1), notice_lead_time=LEAD)
    with pytest.raises(GovernanceError, match="after its planned end"):
        auth.start(T0 + timedelta(hours=6), notice_lead_time=LEAD)
    assert auth.start(T0, notice_lead_time=LEAD).state is DeploymentState.ACTIVE


def test_notice_must_be_public_for_the_lead_time_unless_an_officer_overrides() -> None:
    published = _draft().authorise("officer", T0).publish_notice("op", T0 - timedelta(hours=2))
    with pytest.raises(GovernanceError, match=r"public for 2\.0 h; the policy needs 24 h"):
        published.start(T0, notice_lead_time=LEAD)
    assert published.start(T0, notice_lead_time=timedelta(hours=2)).state is DeploymentState.ACTIVE
    with pytest.raises(InputError, match="written out"):
        published.approve_late_start("officer", "urgent")
    late = published.approve_late_start("officer", "  Missing child, risk to life  ")
    assert late.late_start_reason == "Missing child, risk to life"
    assert late.start(T0, notice_lead_time=LEAD).state is DeploymentState.ACTIVE
    with pytest.raises(GovernanceError, match="publish its notice"):
        _draft().authorise("officer", T0).approve_late_start("officer", "Missing child, risk to life")
    with pytest.raises(GovernanceError, match="already published"):
        published.publish_notice("op", T0)
    with pytest.raises(GovernanceError, match="only an authorised"):
        _draft().publish_notice("op", T0)


def test_closing_before_a_start_is_a_cancellation() -> None:
    assert _ready().close(T0).cancelled
    ran = _ready().start(T0, notice_lead_time=LEAD).close(T0 + timedelta(hours=1))
    assert not ran.cancelled


def test_auto_stop_and_closed_is_final() -> None:
    d = _ready().start(T0, notice_lead_time=LEAD)
    assert not d.due_to_stop(T0 + timedelta(hours=5))
    assert d.due_to_stop(T0 + timedelta(hours=6))
    stopped = d.auto_stop()
    assert stopped.state is DeploymentState.AUTHORISED
    assert stopped.stopped_at == d.plan.planned_end
    closed = stopped.close(T0 + timedelta(hours=7))
    with pytest.raises(GovernanceError):
        closed.close(T0)
    with pytest.raises(GovernanceError):
        closed.start(T0, notice_lead_time=LEAD)
    with pytest.raises(GovernanceError):
        closed.authorise("x", T0)


def test_plan_validation() -> None:
    p = plan(T0)
    with pytest.raises(InputError, match="after planned start"):
        replace(p, planned_end=T0)
    with pytest.raises(InputError, match="timezone"):
        replace(p, planned_start=datetime(2026, 3, 1))
    with pytest.raises(InputError, match="threshold"):
        replace(p, min_similarity=1.5)
    with pytest.raises(InputError, match="purpose"):
        replace(p, purpose=" ")
    with pytest.raises(InputError, match="geofence"):
        replace(p, geofence=((0.0, 0.0),))
