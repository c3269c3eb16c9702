from __future__ import annotations

from datetime import timedelta

from overt.alerts.review import AlertService
from overt.deployments import DeploymentService
from overt.domain.clock import FakeClock
from overt.store import Store
from overt.transparency.report import deployment_report, period_report, render_html, to_json
from tests.gov_helpers import add_entry, plan, publish_late, users


def test_deployment_and_period_reports(store: Store, clock: FakeClock) -> None:
    u = users(store)
    add_entry(store, "SECRET-REF-1", 1)
    svc = DeploymentService(store)
    ids = []
    for _ in range(2):
        d = svc.create(u["op"], plan(clock.now(), hours=2))
        svc.authorise(u["officer"], d.id)
        publish_late(svc, u, d.id)
        svc.start(u["op"], d.id)
        for verdict in ("true_match", "false_match", None):
            a = AlertService(store).record(
                deployment_id=d.id, camera_id="c", entry_id=1, similarity=0.6, raised_at=clock.now()
            )
            if verdict:
                outcome = "arrest" if verdict == "true_match" else "no_action"
                AlertService(store).adjudicate(u["op"], a.id, verdict, outcome, engaged=verdict == "true_match")
        svc.record_faces_processed(d.id, 2000)
        clock.advance(timedelta(hours=1))
        svc.close(u["op"], d.id)
        ids.append(d.id)
        clock.advance(timedelta(days=1))
    r = deployment_report(store, ids[0])
    assert (r.alerts, r.true_alerts, r.false_alerts, r.unadjudicated_alerts) == (3, 1, 1, 1)
    assert r.engagements == 1
    assert r.outcomes == {"arrest": 1, "no_action": 1}
    assert r.watchlist_size == 1
    assert r.active_hours == 1.0
    assert r.observed_false_alerts_per_1000 == 0.5
    p = period_report(store, clock.now() - timedelta(days=5), clock.now())
    assert p.totals["deployments"] == 2
    assert p.totals["alerts"] == 6
    assert to_json(p)["totals"]["faces_processed"] == 4000
    page = render_html(p)
    assert page.startswith("<!doctype html>")
    assert page.count("<h2>Deployment #") == 2
    assert "data:image/png;base64," in page
    assert "SECRET-REF-1" not in page
