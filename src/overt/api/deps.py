"""The services one app instance holds (``app.state.services``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import HTTPConnection

from overt.alerts.review import AlertService
from overt.api.auth import Authenticator
from overt.api.fanout import AlertFanout
from overt.api.live import LiveHub
from overt.api.notifier import AlertNotifier
from overt.api.settings import ApiSettings
from overt.deployments.liveness import Liveness
from overt.deployments.service import DeploymentService
from overt.store.store import Store


@dataclass
class Services:
    settings: ApiSettings
    store: Store
    auth: Authenticator
    deployments: DeploymentService
    alerts: AlertService
    notifier: AlertNotifier
    live: LiveHub
    engine_factory: Any = None
    fanout: AlertFanout | None = None
    """This process's alert WebSocket fan-out (``routes.alerts.fanout`` makes it on first use)."""
    """Callable returning the face engine for enrolment (loaded on first use)."""
    _engine: Any = field(default=None, repr=False)
    liveness: Liveness = field(init=False, repr=False)
    """Camera heartbeats (in the database: every API process sees every pipeline's)."""

    def __post_init__(self) -> None:
        self.liveness = Liveness(self.store)

    def engine(self) -> Any:
        if self._engine is None:
            if self.engine_factory is None:
                from overt.config import EngineConfig, build_engine

                self._engine = build_engine(EngineConfig())
            else:
                self._engine = self.engine_factory()
        return self._engine


def services(conn: HTTPConnection) -> Services:
    svc = conn.app.state.services
    if not isinstance(svc, Services):  # pragma: no cover - wiring error
        raise RuntimeError("app.state.services is not set")
    return svc
