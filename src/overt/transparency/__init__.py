"""Transparency reports: per deployment and over a period, as JSON and a self-contained HTML page."""

from __future__ import annotations

from overt.transparency.report import (
    DeploymentReport,
    PeriodReport,
    deployment_report,
    period_report,
    render_html,
)

__all__ = ["DeploymentReport", "PeriodReport", "deployment_report", "period_report", "render_html"]
