"""Deployment lifecycle service (the state machine itself is pure: overt.domain.deployments)."""

from __future__ import annotations

from overt.deployments.service import AuthorisationResult, DeploymentService, DeploymentView, TickResult

__all__ = ["AuthorisationResult", "DeploymentService", "DeploymentView", "TickResult"]
