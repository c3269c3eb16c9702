"""The public view: what is public when, and the files of the public site (no login)."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import timedelta

from overt.alerts.review import AlertService
from overt.deployments import DeploymentService
from overt.domain.clock import FakeClock
from overt.store import Store
from overt.store.datadir import PublicInfo
from overt.store.store import Policy
from overt.transparency.public import PublicSite, PublicStatus
from overt.transparency.report import deployment_report
from overt.transparency.site import CSV_COLUMNS, SiteRenderer
from tests.gov_helpers import add_entry, plan, publish_late, users

ATOM = "{http://www.w3.org/2005/Atom}"


def test_a_deployment_is_public_from_its_notice_to_its_results(store: Store, clock: FakeClock) -> None:
    u = users(store)
    add_entry(store, "CASE-1", 1)
    svc = DeploymentService(store)
    site = PublicSite(store, PublicInfo(force_name="Test Constabulary"), Policy())
    geofence = ((51.5010, -0.1420), (51.5020, -0.1400), (51.5005, -0.1395))
    d = svc.create(u["op"], replace(plan(clock.now() + timedelta(hours=30)), geofence=geofence))
    svc.authorise(u["officer"], d.id)
    assert site.deployments() == ()  # authorised, but its notice is not out yet: not public
    svc.publish_notice(u["op"], d.id)
    (rec,) = site.deployments()
    assert rec.status is PublicStatus.UPCOMING
    assert rec.category_counts == (("wanted_by_court", 1),)
    assert rec.estimate_source.startswith("estimate")
    assert rec.results is None
    assert not rec.published_late
    clock.advance(timedelta(hours=30))  # the notice has been public for 30 h > 24 h: no override needed
    svc.start(u["op"], d.id)
    assert site.deployment(d.id).status is PublicStatus.ACTIVE  # type: ignore[union-attr]
    alerts = AlertService(store)
    for verdict in ("true_match", "false_match", None):
        a = alerts.record(deployment_id=d.id, camera_id="c", entry_id=1, similarity=0.6, raised_at=clock.now())
        if verdict:
            outcome = "arrest" if verdict == "true_match" else "no_action"
            alerts.adjudicate(u["op"], a.id, verdict, outcome, engaged=verdict == "true_match")
    svc.record_faces_processed(d.id, 2000)
    assert site.deployment(d.id).results is None  # type: ignore[union-attr]  # not before the end
    clock.advance(timedelta(hours=1))
    svc.close(u["op"], d.id)
    rec = site.deployment(d.id)  # type: ignore[assignment]
    assert rec.status is PublicStatus.ENDED
    report = deployment_report(store, d.id)
    assert rec.results is not None
    assert (rec.results.faces_processed, rec.results.alerts) == (report.faces_processed, report.alerts)
    assert (rec.results.true_alerts, rec.results.false_alerts) == (report.true_alerts, report.false_alerts)
    assert dict(rec.results.outcomes) == report.outcomes

    files = SiteRenderer(site).render_all()
    page = files[f"deployments/{d.id}.html"].body.decode()
    assert "<polygon" in page  # the geofence outline, inline
    assert "Confirmed alerts" in page
    assert "<script" not in page
    doc = json.loads(files["deployments.json"].body)
    assert doc["schema_version"] == "1.0"
    (j,) = doc["deployments"]
    assert j["status"] == "ended"
    assert j["results"]["faces_processed"] == 2000
    assert j["watchlist_categories"] == [{"category": "wanted_by_court", "count": 1}]
    rows = list(csv.reader(io.StringIO(files["deployments.csv"].body.decode())))
    assert rows[1] == list(CSV_COLUMNS)
    assert rows[2][CSV_COLUMNS.index("alerts")] == "3"
    feed = ET.fromstring(files["feed.atom"].body)
    titles = [e.findtext(f"{ATOM}title") for e in feed.iter(f"{ATOM}entry")]
    assert any(t and t.startswith("Notice:") for t in titles)
    assert any(t and t.startswith("Results:") for t in titles)


def test_late_notice_is_shown_with_its_reason_and_a_cancellation_stays(store: Store, clock: FakeClock) -> None:
    u = users(store)
    add_entry(store, "CASE-1", 1)
    svc = DeploymentService(store)
    site = PublicSite(store)
    late = svc.create(u["op"], plan(clock.now()))
    svc.authorise(u["officer"], late.id)
    publish_late(svc, u, late.id)
    svc.start(u["op"], late.id)
    cancelled = svc.create(u["op"], plan(clock.now() + timedelta(days=3)))
    svc.authorise(u["officer"], cancelled.id)
    svc.publish_notice(u["op"], cancelled.id)
    svc.close(u["op"], cancelled.id)
    by_id = {r.id: r for r in site.deployments()}
    assert by_id[late.id].published_late
    assert by_id[late.id].late_reason == "urgent: test of the start path"
    assert by_id[cancelled.id].status is PublicStatus.CANCELLED
    index = SiteRenderer(site).render("index.html")
    assert index is not None
    html = index.body.decode()
    assert "Published late, reason: urgent: test of the start path" in html
    upcoming = html.split('id="h-upcoming"')[1].split("</section>")[0]
    assert "No deployment is planned" in upcoming  # the cancelled one left "upcoming"...
    past = html.split('id="h-past"')[1].split("</section>")[0]
    assert "Cancelled" in past  # ...and is listed as cancelled, not deleted


def test_retention_page_reads_the_data_dirs_settings(store: Store) -> None:
    policy = Policy(alert_retention=timedelta(hours=72), snapshot_shred_after=timedelta(hours=6))
    page = SiteRenderer(PublicSite(store, policy=policy)).render("retention.html")
    assert page is not None
    html = page.body.decode()
    assert "3 days after the alert" in html
    assert "6 hours after its planned end" in html
    assert SiteRenderer(PublicSite(store)).render("../overt.db") is None
