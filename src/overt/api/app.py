"""``create_app(settings)``: the FastAPI application (REST, WebSocket, web console)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from overt import __version__
from overt.alerts.review import AlertService
from overt.api.auth import Authenticator
from overt.api.deps import Services
from overt.api.live import LiveHub
from overt.api.middleware import BodyLimit, TransportHeaders
from overt.api.notifier import AlertNotifier
from overt.api.security import guard
from overt.api.settings import ApiSettings
from overt.deployments.service import DeploymentService
from overt.errors import (
    AuthError,
    ConfigError,
    CryptoError,
    DecryptionError,
    GovernanceError,
    InputError,
    KeyDestroyedError,
    NotFoundError,
    OvertError,
    StorageError,
)
from overt.store.store import Store

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; img-src 'self' data: blob:; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class SecurityHeaders:
    """Pure ASGI middleware (does not buffer responses or break WebSockets)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers.extend((k, v) for k, v in SECURITY_HEADERS if k not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _status(exc: OvertError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, AuthError):
        return 403
    if isinstance(exc, GovernanceError):
        return 409
    if isinstance(exc, KeyDestroyedError):
        return 410
    if isinstance(exc, DecryptionError):
        return 410
    if isinstance(exc, InputError | ConfigError):
        return 422
    if isinstance(exc, StorageError):
        return 503
    if isinstance(exc, CryptoError):
        return 500
    return 400


ERROR_PAGES = (403, 404, 409, 410)
"""Console pages answer these with an HTML page; the API keeps JSON."""


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def _notifier(store: Store, settings: ApiSettings) -> AlertNotifier:
    """SQLite: in-process push plus polling. PostgreSQL: ``LISTEN/NOTIFY`` across processes too."""
    if store.db.is_sqlite:
        return AlertNotifier(store, poll_s=settings.alert_poll_s)
    from overt.api.pg_notifier import PgAlertNotifier

    return PgAlertNotifier(store, poll_s=max(1.0, settings.alert_poll_s))


def create_app(
    settings: ApiSettings,
    *,
    store: Store | None = None,
    engine_factory: Callable[[], Any] | None = None,
) -> FastAPI:
    """The application. ``store`` (already open) wins over ``settings.data_dir``."""
    if store is None:
        if settings.data_dir is None:
            raise ConfigError("create_app needs a store or settings.data_dir")
        from overt.store.datadir import open_data_dir

        store = open_data_dir(settings.data_dir)
    store.db.migrate()  # the API's own tables (idempotent)
    auth = Authenticator(store, settings)
    notifier = _notifier(store, settings)
    svc = Services(
        settings=settings,
        store=store,
        auth=auth,
        deployments=DeploymentService(store, data_dir=settings.data_dir),
        alerts=AlertService(store, second_person=settings.second_person_confirmation),
        notifier=notifier,
        live=LiveHub(),
        engine_factory=engine_factory,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await notifier.start()
        try:
            yield
        finally:
            if svc.fanout is not None:
                await svc.fanout.stop()
            await notifier.stop()

    app = FastAPI(
        title="Overt API",
        version=__version__,
        description="Live facial recognition with its safeguards built in. Every route lists the roles it "
        "allows in `x-roles`; everything else is denied.",
        docs_url=None,  # the Swagger UI loads from a CDN: nothing from the network at run time
        redoc_url=None,
        openapi_url="/api/openapi.json",
        dependencies=[Depends(guard)],
        lifespan=lifespan,
    )
    from overt.web import pages  # the console's pages (and its HTML error pages)

    app.state.services = svc
    app.state.auth = auth
    app.add_middleware(SecurityHeaders)
    app.add_middleware(
        BodyLimit, settings=settings, authenticated=lambda conn: auth.authenticate_once(conn) is not None
    )
    app.add_middleware(TransportHeaders, settings=settings)

    @app.exception_handler(OvertError)
    async def _overt_error(request: Request, exc: OvertError) -> Response:
        code = _status(exc)
        if code >= 500:
            log.error("request failed: %s", exc.__class__.__name__)
        if _wants_html(request) and code in ERROR_PAGES:
            return pages.error_page(request, code, str(exc))
        return JSONResponse({"detail": str(exc)}, status_code=code)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 401 and _wants_html(request):
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        if _wants_html(request) and exc.status_code in ERROR_PAGES:
            return pages.error_page(request, exc.status_code, str(exc.detail))
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    from overt.api.routes import admin, alerts, audit, deployments, heartbeats, public_settings, reports, watchlist
    from overt.api.routes import auth as auth_routes
    from overt.api.routes import console as console_routes
    from overt.web import public as public_pages

    for r in (auth_routes, admin, deployments, watchlist, alerts, reports, audit, public_settings, console_routes):
        app.include_router(r.router)
    app.include_router(heartbeats.router)
    pages.install(app)
    public_pages.install(app)
    return app
