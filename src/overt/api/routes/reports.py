"""Transparency reports: per deployment and over a period, as JSON and as an HTML page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from overt.api.deps import services
from overt.api.schemas import Id
from overt.api.security import Principal, allow, current_principal
from overt.domain.users import Permission, Role
from overt.errors import InputError
from overt.transparency.report import deployment_report, period_report, render_html, to_json

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
REPORT = allow(Permission.REPORT, roles=(Role.OPERATOR,))  # reports are public-facing numbers
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"


@router.get("/deployments/{deployment_id}", response_model=dict[str, Any], **REPORT)
def report_json(deployment_id: Id, request: Request, p: Principal = Depends(current_principal)) -> dict[str, Any]:
    """The numbers for the console (not audited: viewing them is not an export; the HTML export is)."""
    return to_json(deployment_report(services(request).store, deployment_id, actor=p.name, audit=False))


@router.get("/deployments/{deployment_id}/html", response_class=HTMLResponse, **REPORT)
def report_html(deployment_id: Id, request: Request, p: Principal = Depends(current_principal)) -> HTMLResponse:
    html = render_html(deployment_report(services(request).store, deployment_id, actor=p.name))
    return HTMLResponse(html, headers={"Content-Security-Policy": REPORT_CSP})


@router.get("/period", response_model=dict[str, Any], **REPORT)
def report_period(
    request: Request, start: datetime, end: datetime, p: Principal = Depends(current_principal)
) -> dict[str, Any]:
    if start.tzinfo is None or end.tzinfo is None:
        raise InputError("start and end need a timezone")
    if end <= start:
        raise InputError("end must be after start")
    return to_json(period_report(services(request).store, start, end, actor=p.name, audit=False))
