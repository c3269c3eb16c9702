"""The public site as files: HTML pages, open data (JSON, CSV, Atom) and one stylesheet.

Served by ``overt serve`` under ``/public/`` and written out by ``overt publish --out DIR``;
every link is relative so the same files work in both places. Plain HTML: no JavaScript, no
external fonts, tiles or images (drawings are inline SVG).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from overt.transparency.public import SCHEMA_VERSION, PublicDeployment, PublicSite, PublicStatus
from overt.transparency.svg import bar_chart_svg, geofence_svg

_TEMPLATES = resources.files("overt.transparency") / "templates"
_env = Environment(loader=FileSystemLoader(str(_TEMPLATES)), autoescape=select_autoescape(["html"]), trim_blocks=True)
PAGE_RE = re.compile(r"^deployments/([1-9][0-9]{0,9})\.html$")
STATIC_PATHS = (
    "index.html",
    "retention.html",
    "rights.html",
    "deployments.json",
    "deployments.csv",
    "feed.atom",
    "style.css",
)
CSV_COLUMNS = (
    "id", "status", "place", "purpose", "legal_basis", "planned_start", "planned_end", "started_at", "ended_at",
    "notice_published_at", "published_late", "late_reason", "watchlist_size", "watchlist_categories",
    "min_similarity", "expected_false_alerts_per_1000", "expected_false_alerts_source", "faces_processed",
    "alerts", "true_alerts", "false_alerts", "unadjudicated_alerts", "engagements", "outcomes",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    media_type: str

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:32] + '"'


def when(dt: datetime | None) -> Markup:
    if dt is None:
        return Markup("—")
    text = dt.astimezone(UTC).strftime("%a %d %b %Y, %H:%M UTC")
    return Markup('<time datetime="{}">{}</time>').format(dt.isoformat(), text)


def category(value: str) -> str:
    return value.replace("_", " ")


def rate(value: float | None) -> str:
    """A rate per 1,000 faces: small values keep two significant figures instead of reading as 0.000."""
    if value is None:
        return "—"
    if 0 < abs(value) < 0.01:
        return f"{value:.2g}"
    return f"{value:.3f}"


_env.filters["when"] = when
_env.filters["category"] = category
_env.filters["rate"] = rate


def _charts(r: PublicDeployment) -> Markup:
    if r.results is None:
        return Markup("")
    res = r.results
    alerts = bar_chart_svg(
        f"Alerts in deployment {r.id}: {res.true_alerts} confirmed, {res.false_alerts} false, "
        f"{res.unadjudicated_alerts} not reviewed",
        [("confirmed", res.true_alerts), ("false", res.false_alerts), ("not reviewed", res.unadjudicated_alerts)],
    )
    parts = ["<h3>Alerts, by review</h3>", alerts]
    if res.outcomes:
        parts.append("<h3>Outcomes</h3>")
        parts.append(
            bar_chart_svg(
                f"Outcomes of engagements in deployment {r.id}",
                [(category(k), v) for k, v in res.outcomes],
            )
        )
    return Markup("".join(parts))  # noqa: S704  (bar_chart_svg escapes every text it draws)


def _geofence(r: PublicDeployment) -> Markup:
    if not r.geofence:
        return Markup("")
    return Markup(geofence_svg(r.geofence, f"Outline of the area covered: {r.place}"))  # noqa: S704  (escaped)


def record_json(r: PublicDeployment) -> dict[str, Any]:
    res = r.results
    return {
        "id": r.id,
        "status": r.status.value,
        "page": f"deployments/{r.id}.html",
        "place": r.place,
        "geofence": [list(p) for p in r.geofence] if r.geofence else None,
        "purpose": r.purpose,
        "legal_basis": r.legal_basis,
        "planned_start": r.planned_start.isoformat(),
        "planned_end": r.planned_end.isoformat(),
        "started_at": r.started_at.isoformat() if r.started_at else None,
        "ended_at": r.ended_at.isoformat() if r.ended_at else None,
        "notice_published_at": r.notice_published_at.isoformat(),
        "published_late": r.published_late,
        "late_reason": r.late_reason,
        "watchlist_size": r.watchlist_size,
        "watchlist_categories": [{"category": c, "count": n} for c, n in r.category_counts],
        "threshold": {
            "min_similarity": r.min_similarity,
            "expected_false_alerts_per_1000": r.expected_false_alerts_per_1000,
            "source": r.estimate_source,
        },
        "results": None
        if res is None
        else {
            "faces_processed": res.faces_processed,
            "alerts": res.alerts,
            "true_alerts": res.true_alerts,
            "false_alerts": res.false_alerts,
            "unadjudicated_alerts": res.unadjudicated_alerts,
            "engagements": res.engagements,
            "outcomes": dict(res.outcomes),
            "active_hours": res.active_hours,
            "observed_false_alerts_per_1000": res.observed_false_alerts_per_1000,
        },
    }


class SiteRenderer:
    """Renders one path of the public site (or all of them, for export)."""

    def __init__(self, site: PublicSite) -> None:
        self.site = site

    def paths(self) -> list[str]:
        return [*STATIC_PATHS, *(f"deployments/{r.id}.html" for r in self.site.deployments())]

    def render_all(self) -> dict[str, Rendered]:
        records = self.site.deployments()
        out = {p: self._render(p, records) for p in STATIC_PATHS}
        for r in records:
            out[f"deployments/{r.id}.html"] = self._deployment(r)
        return {k: v for k, v in out.items() if v is not None}

    def render(self, path: str) -> Rendered | None:
        if path == "":
            path = "index.html"
        if path not in STATIC_PATHS and not PAGE_RE.match(path):
            return None
        return self._render(path, self.site.deployments())

    def _render(self, path: str, records: tuple[PublicDeployment, ...]) -> Rendered | None:
        m = PAGE_RE.match(path)
        if m:
            rec = next((r for r in records if r.id == int(m.group(1))), None)
            return None if rec is None else self._deployment(rec)
        if path == "style.css":
            return Rendered((_TEMPLATES / "public.css").read_bytes(), "text/css; charset=utf-8")
        if path == "deployments.json":
            return Rendered(self._json(records), "application/json")
        if path == "deployments.csv":
            return Rendered(self._csv(records), "text/csv; charset=utf-8")
        if path == "feed.atom":
            return Rendered(self._atom(records), "application/atom+xml")
        if path == "index.html":
            groups = {
                "upcoming": [r for r in records if r.status is PublicStatus.UPCOMING],
                "active": [r for r in records if r.status in (PublicStatus.ACTIVE, PublicStatus.PAUSED)],
                "past": [r for r in records if r.status in (PublicStatus.ENDED, PublicStatus.CANCELLED)],
            }
            return self._page("index.html", "", groups=groups)
        if path == "retention.html":
            return self._page("retention.html", "", facts=self.site.retention())
        if path == "rights.html":
            return self._page("rights.html", "")
        return None

    def _deployment(self, r: PublicDeployment) -> Rendered:
        return self._page("deployment.html", "../", r=r, charts=_charts(r), geofence=_geofence(r))

    def _page(self, template: str, root: str, **ctx: Any) -> Rendered:
        html = _env.get_template(f"public/{template}").render(info=self.site.info, root=root, **ctx)
        return Rendered(html.encode("utf-8"), "text/html; charset=utf-8")

    def _updated(self, records: tuple[PublicDeployment, ...]) -> str:
        return max((r.updated_at for r in records), default=datetime(1970, 1, 1, tzinfo=UTC)).isoformat()

    def _json(self, records: tuple[PublicDeployment, ...]) -> bytes:
        doc = {
            "schema": "overt-public-deployments",
            "schema_version": SCHEMA_VERSION,
            "publisher": self.site.info.force_name,
            "updated_at": self._updated(records),
            "deployments": [record_json(r) for r in records],
        }
        return json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8")

    def _csv(self, records: tuple[PublicDeployment, ...]) -> bytes:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([f"# overt-public-deployments schema_version={SCHEMA_VERSION}"])
        w.writerow(CSV_COLUMNS)
        for r in records:
            j = record_json(r)
            res = j["results"] or {}
            t = j["threshold"]
            row = {
                **{k: j[k] for k in CSV_COLUMNS if k in j},
                "watchlist_categories": ";".join(f"{c}={n}" for c, n in r.category_counts),
                "min_similarity": t["min_similarity"],
                "expected_false_alerts_per_1000": t["expected_false_alerts_per_1000"],
                "expected_false_alerts_source": t["source"],
                **{k: res.get(k) for k in CSV_COLUMNS if k in res},
                "outcomes": ";".join(f"{k}={v}" for k, v in (r.results.outcomes if r.results else ())),
            }
            w.writerow(["" if row.get(k) is None else _safe_cell(row[k]) for k in CSV_COLUMNS])
        return buf.getvalue().encode("utf-8")

    def _atom(self, records: tuple[PublicDeployment, ...]) -> bytes:
        e = xml_escape
        name = e(self.site.info.force_name)
        parts = [
            '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">',
            f"<title>{name}: live facial recognition notices and results</title>",
            "<id>tag:overt.public,2026:feed</id>",
            f"<updated>{self._updated(records)}</updated><author><name>{name}</name></author>",
            '<link rel="self" href="feed.atom"/><link rel="alternate" type="text/html" href="index.html"/>',
        ]
        for r in records:
            entries = [("notice", f"Notice: live facial recognition at {r.place}", r.notice_published_at)]
            if r.status is PublicStatus.CANCELLED and r.ended_at:
                entries.append(("cancelled", f"Cancelled: live facial recognition at {r.place}", r.ended_at))
            if r.results is not None and r.ended_at:
                res = r.results
                entries.append(
                    (
                        "results",
                        f"Results: {res.faces_processed} faces processed, {res.alerts} alerts "
                        f"({res.true_alerts} confirmed, {res.false_alerts} false) at {r.place}",
                        r.ended_at,
                    )
                )
            for kind, title, at in entries:
                summary = f"{r.purpose}. Planned {r.planned_start.isoformat()} to {r.planned_end.isoformat()}." + (
                    f" Published late, reason: {r.late_reason}" if r.late_reason else ""
                )
                parts.append(
                    f"<entry><id>tag:overt.public,2026:deployment-{r.id}-{kind}</id><title>{e(title)}</title>"
                    f'<updated>{at.isoformat()}</updated><link rel="alternate" type="text/html" '
                    f'href="deployments/{r.id}.html"/><summary>{e(summary)}</summary></entry>'
                )
        parts.append("</feed>\n")
        return "".join(parts).encode("utf-8")


def _safe_cell(v: object) -> str:
    """CSV cell that a spreadsheet will not run as a formula."""
    s = str(v)
    return "'" + s if s[:1] in ("=", "+", "-", "@") and not _NUMBER.match(s) else s


_NUMBER = re.compile(r"^-?[0-9.]+(e-?[0-9]+)?$")
