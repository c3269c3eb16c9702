"""What a deployment did, in numbers the public can read: no names, no images, no references."""

from __future__ import annotations

import base64
import html
import io
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from overt.domain.deployments import Deployment
from overt.store.store import Store
from overt.transparency.numbers import active_text, observed_rate_text, rate_text


@dataclass(frozen=True, slots=True)
class DeploymentReport:
    deployment_id: int
    state: str
    date: str
    place: str
    purpose: str
    legal_basis: str
    planned_start: str
    planned_end: str
    planned_hours: float
    active_hours: float | None
    watchlist_size: int
    categories: tuple[str, ...]
    min_similarity: float
    expected_false_alerts_per_1000: float | None
    faces_processed: int
    alerts: int
    true_alerts: int
    false_alerts: int
    unadjudicated_alerts: int
    engagements: int
    outcomes: dict[str, int]
    observed_false_alerts_per_1000: float | None
    authorised_by: str | None
    active_text: str = ""
    expected_false_alerts_text: str = ""
    observed_false_alerts_text: str = ""
    """The same numbers worded for people (``transparency.numbers``), shown by the HTML report and the console."""


@dataclass(frozen=True, slots=True)
class PeriodReport:
    start: str
    end: str
    deployments: tuple[DeploymentReport, ...]
    totals: dict[str, int]


def summarise(d: Deployment, watchlist_size: int, now: datetime | None = None) -> DeploymentReport:
    c = d.counters
    p = d.plan
    active = None
    if d.started_at is not None:
        end = d.stopped_at or d.closed_at
        if end is not None and end > d.started_at:
            active = round((end - d.started_at).total_seconds() / 3600, 2)
    return DeploymentReport(
        deployment_id=d.id,
        state=d.state.value,
        date=p.planned_start.date().isoformat(),
        place=p.place,
        purpose=p.purpose,
        legal_basis=p.legal_basis,
        planned_start=p.planned_start.isoformat(),
        planned_end=p.planned_end.isoformat(),
        planned_hours=round((p.planned_end - p.planned_start).total_seconds() / 3600, 2),
        active_hours=active,
        watchlist_size=watchlist_size,
        categories=tuple(c_.value for c_ in p.categories),
        min_similarity=p.min_similarity,
        expected_false_alerts_per_1000=p.expected_false_alerts_per_1000,
        faces_processed=c.faces_processed,
        alerts=c.alerts_raised,
        true_alerts=c.alerts_true,
        false_alerts=c.alerts_false,
        unadjudicated_alerts=max(0, c.alerts_raised - c.alerts_true - c.alerts_false),
        engagements=c.engagements,
        outcomes=dict(c.outcomes),
        observed_false_alerts_per_1000=(
            round(1000 * c.alerts_false / c.faces_processed, 4) if c.faces_processed else None
        ),
        authorised_by=d.authorised_by,
        active_text=active_text(d.started_at, d.stopped_at or d.closed_at, now or datetime.now(UTC)),
        expected_false_alerts_text=rate_text(p.expected_false_alerts_per_1000),
        observed_false_alerts_text=observed_rate_text(c.alerts_false, c.faces_processed),
    )


def deployment_report(
    store: Store, deployment_id: int, *, actor: str = "system", audit: bool = True
) -> DeploymentReport:
    """``audit``: record the generation (an export); a console merely showing the numbers does not."""
    with store.transaction() as tx:
        d = tx.deployments.get(deployment_id)
        info = tx.snapshots.info(deployment_id)
        if audit:
            tx.audit.append(actor, "report.generated", f"deployment:{deployment_id}", {})
        return summarise(d, info.entry_count if info else 0, tx.clock.now())


def period_report(
    store: Store, start: datetime, end: datetime, *, actor: str = "system", audit: bool = True
) -> PeriodReport:
    with store.transaction() as tx:
        reports = []
        for d in tx.deployments.in_period(start, end):
            info = tx.snapshots.info(d.id)
            reports.append(summarise(d, info.entry_count if info else 0, tx.clock.now()))
        if audit:
            tx.audit.append(actor, "report.generated", "period", {"from": start.isoformat(), "to": end.isoformat()})
    keys = ("faces_processed", "alerts", "true_alerts", "false_alerts", "unadjudicated_alerts", "engagements")
    totals = {k: sum(int(getattr(r, k)) for r in reports) for k in keys}
    totals["deployments"] = len(reports)
    return PeriodReport(start.isoformat(), end.isoformat(), tuple(reports), totals)


def to_json(report: DeploymentReport | PeriodReport) -> dict[str, Any]:
    return asdict(report)


def _chart(reports: tuple[DeploymentReport, ...]) -> str:
    """Stacked bars of true/false/unadjudicated alerts per deployment, as a data: URI PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"#{r.deployment_id}\n{r.date}" for r in reports]
    t = [r.true_alerts for r in reports]
    f = [r.false_alerts for r in reports]
    u = [r.unadjudicated_alerts for r in reports]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6), dpi=96)
    ax1.bar(labels, t, label="true alerts", color="#2b8a3e")
    ax1.bar(labels, f, bottom=t, label="false alerts", color="#c92a2a")
    ax1.bar(labels, u, bottom=[a + b for a, b in zip(t, f, strict=True)], label="not adjudicated", color="#adb5bd")
    ax1.set_title("Alerts per deployment")
    ax1.legend(fontsize=8)
    ax2.bar(labels, [r.faces_processed for r in reports], color="#1c7ed6")
    ax2.set_title("Faces processed (not stored)")
    for ax in (ax1, ax2):
        ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


_CSS = (
    "body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;width:100%;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;"
    "text-align:left;font-size:14px}th{background:#f1f3f5}img{max-width:100%}.note{color:#555;font-size:13px}"
)


def render_html(report: DeploymentReport | PeriodReport) -> str:
    """A readable, self-contained page (inline CSS, the chart embedded as PNG)."""
    e = html.escape
    if isinstance(report, DeploymentReport):
        reports: tuple[DeploymentReport, ...] = (report,)
        title = f"Live facial recognition deployment #{report.deployment_id}: transparency report"
        totals = None
    else:
        reports = report.deployments
        title = f"Live facial recognition: transparency report {report.start[:10]} to {report.end[:10]}"
        totals = report.totals
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(title)}</title>"]
    parts.append(f"<style>{_CSS}</style></head><body><h1>{e(title)}</h1>")
    if totals is not None:
        parts.append("<h2>Totals</h2><table>")
        parts += [f"<tr><th>{e(k.replace('_', ' '))}</th><td>{v}</td></tr>" for k, v in totals.items()]
        parts.append("</table>")
    if reports:
        parts.append(f"<img alt='alerts and faces per deployment' src='{_chart(reports)}'>")
    for r in reports:
        rows = [
            ("Date", r.date),
            ("Place", r.place),
            ("Purpose", r.purpose),
            ("Legal basis", r.legal_basis),
            ("Planned", f"{r.planned_start} to {r.planned_end} ({r.planned_hours} h)"),
            ("Active", r.active_text or ("-" if r.active_hours is None else f"{r.active_hours} h")),
            ("State", r.state),
            ("Authorised by", r.authorised_by or "-"),
            ("Watch-list size", str(r.watchlist_size)),
            ("Watch-list categories", ", ".join(r.categories)),
            ("Alert threshold (similarity)", f"{r.min_similarity:.3f}"),
            ("Expected false alerts per 1,000 faces", r.expected_false_alerts_text),
            ("Faces processed", str(r.faces_processed)),
            ("Alerts", str(r.alerts)),
            ("True alerts", str(r.true_alerts)),
            ("False alerts", str(r.false_alerts)),
            ("Not adjudicated", str(r.unadjudicated_alerts)),
            ("Observed false alerts per 1,000 faces", r.observed_false_alerts_text),
            ("Engagements", str(r.engagements)),
            ("Outcomes", ", ".join(f"{k}: {v}" for k, v in r.outcomes.items()) or "-"),
        ]
        parts.append(f"<h2>Deployment #{r.deployment_id}</h2><table>")
        parts += [f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows]
        parts.append("</table>")
    parts.append(
        "<p class='note'>Faces of people who matched no one were compared in memory and discarded; "
        "none were stored. Watch-list images are destroyed when a deployment ends.</p></body></html>"
    )
    return "".join(parts)
