"""The sign at the place: an A3 and an A4 page in one PDF, with a QR code to the public page.

Only a deployment whose notice is published has a sign (its public page must exist first).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import segno
from reportlab.lib.pagesizes import A3, A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from overt.errors import GovernanceError
from overt.transparency.public import PublicDeployment, PublicSite

HEADLINE = "Police are using live facial recognition here"
DEFAULT_BASE_URL = "http://localhost:8000"


def public_page_url(site: PublicSite, deployment_id: int, base_url: str | None = None) -> str:
    base = (base_url or site.info.public_base_url or DEFAULT_BASE_URL).rstrip("/")
    return f"{base}/public/deployments/{deployment_id}.html"


def _when(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%a %d %b %Y %H:%M UTC")


def _qr(c: Canvas, url: str, x: float, y: float, size: float) -> None:
    qr = segno.make(url, error="m")
    rows = list(qr.matrix_iter(border=4))
    module = size / len(rows)
    c.setFillColorRGB(1, 1, 1)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(rows):
        for col, dark in enumerate(row):
            if dark:
                c.rect(x + col * module, y + size - (r + 1) * module, module, module, stroke=0, fill=1)


def _page(c: Canvas, size: tuple[float, float], rec: PublicDeployment, site: PublicSite, url: str) -> None:
    w, h = size
    s = w / A4[0]  # everything scales with the page
    margin = 40 * s
    c.setPageSize(size)
    c.setFillColorRGB(1, 0.84, 0)  # warning yellow band, black text: high contrast
    c.rect(0, h - 190 * s, w, 190 * s, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    y = h - margin - 30 * s
    for line in simpleSplit(HEADLINE, "Helvetica-Bold", 38 * s, w - 2 * margin):
        c.setFont("Helvetica-Bold", 38 * s)
        c.drawString(margin, y, line)
        y -= 44 * s
    y = h - 190 * s - 40 * s
    info = site.info
    contact = " · ".join(x for x in (info.contact_phone, info.contact_email) if x) or "see the web page below"
    blocks = [
        ("Where", rec.place),
        ("When", f"{_when(rec.planned_start)} to {_when(rec.planned_end)}"),
        ("Why", rec.purpose),
        ("Who", info.force_name),
        ("Questions or complaints", contact),
        ("Your face", "If you are not on the watch list, your image is deleted at once and never stored."),
    ]
    for label, text in blocks:
        c.setFont("Helvetica-Bold", 16 * s)
        c.drawString(margin, y, label)
        y -= 22 * s
        c.setFont("Helvetica", 16 * s)
        for line in simpleSplit(text, "Helvetica", 16 * s, w - 2 * margin):
            c.drawString(margin, y, line)
            y -= 20 * s
        y -= 10 * s
    qr_size = 170 * s
    _qr(c, url, margin, margin + 30 * s, qr_size)
    c.setFont("Helvetica-Bold", 14 * s)
    c.drawString(margin + qr_size + 16 * s, margin + 30 * s + qr_size - 20 * s, "Scan for details and results:")
    c.setFont("Helvetica", 11 * s)
    for i, line in enumerate(simpleSplit(url, "Helvetica", 11 * s, w - 2 * margin - qr_size - 16 * s)):
        c.drawString(margin + qr_size + 16 * s, margin + 30 * s + qr_size - 42 * s - i * 14 * s, line)
    c.showPage()


def signage_pdf(site: PublicSite, deployment_id: int, *, base_url: str | None = None) -> bytes:
    """A3 page then A4 page, one PDF."""
    rec = site.deployment(deployment_id)
    if rec is None:
        raise GovernanceError(f"deployment {deployment_id}: publish its notice before printing its sign")
    url = public_page_url(site, deployment_id, base_url)
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A3, invariant=True)
    c.setTitle(f"{HEADLINE}: {rec.place}")
    c.setAuthor(site.info.force_name)
    for size in (A3, A4):
        _page(c, size, rec, site, url)
    c.save()
    return buf.getvalue()
