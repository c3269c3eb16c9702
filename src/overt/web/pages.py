"""HTML pages of the console. Data comes from the REST API via the page's JS (same origin)."""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from overt import __version__
from overt.api.deps import services
from overt.api.schemas import Id
from overt.api.security import SESSION_COOKIE, Principal, allow, current_principal
from overt.deployments.thresholds import live_threshold
from overt.domain.users import Permission, Role
from overt.retention import MAX_RETAIN_DAYS

_WEB = resources.files("overt.web")
templates = Jinja2Templates(directory=str(_WEB / "templates"))
router = APIRouter(include_in_schema=False)
EVERYONE = tuple(Role)

NAV: list[tuple[str, str, tuple[Permission, ...]]] = [
    ("/alerts", "Alerts", (Permission.ADJUDICATE,)),
    (
        "/deployments",
        "Deployments",
        (Permission.CREATE_DEPLOYMENT, Permission.AUTHORISE_DEPLOYMENT, Permission.RUN_DEPLOYMENT, Permission.REPORT),
    ),
    ("/watchlist", "Watch list", (Permission.VIEW_WATCHLIST,)),
    ("/reports", "Reports", (Permission.REPORT, Permission.ADJUDICATE)),
    ("/alert-log", "Alert log", (Permission.REPORT,)),
    ("/audit", "Audit", (Permission.VIEW_AUDIT,)),
    ("/admin", "Users & tokens", (Permission.MANAGE_USERS,)),
]


def _page(request: Request, name: str, p: Principal | None, **ctx: Any) -> HTMLResponse:
    csrf = ""
    if p is not None and p.via == "session":
        s = services(request).auth.sessions.get(request.cookies.get(SESSION_COOKIE))
        csrf = s.csrf if s else ""
    nav = [(href, label) for href, label, perms in NAV if p is not None and any(p.can(x) for x in perms)]
    perms = sorted(x.value for x in Permission if p is not None and p.can(x))
    resp = templates.TemplateResponse(
        request,
        name,
        {
            "principal": p,
            "csrf": csrf,
            "nav": nav,
            "version": __version__,
            "perms": perms,
            "can": lambda perm: perm in perms,  # show only what the role may do
            **ctx,
        },
        status_code=int(ctx.get("status_code", 200)),
    )
    resp.headers["Cache-Control"] = "no-store"
    return resp


@router.get("/", **allow(public=True))
def home(request: Request) -> Response:
    p = request.state.principal
    if p is None:
        return RedirectResponse("/login", status_code=303)
    if p.user is not None and p.user.must_change_password:
        return RedirectResponse("/account", status_code=303)
    first = next((href for href, _, perms in NAV if any(p.can(x) for x in perms)), "/login")
    return RedirectResponse(first, status_code=303)


@router.get("/login", response_class=HTMLResponse, **allow(public=True))
def login_page(request: Request) -> Response:
    resp = _page(request, "login.html", None)
    session = services(request).auth.ensure_session(request, resp)
    # the template was rendered before the session existed: render again with its token
    resp2 = _page(request, "login.html", None, login_csrf=session.csrf)
    for k, v in resp.headers.items():
        if k.lower() == "set-cookie":
            resp2.headers.append(k, v)
    return resp2


@router.get("/alerts", response_class=HTMLResponse, **allow(Permission.ADJUDICATE))
def alerts_page(request: Request, p: Principal = Depends(current_principal)) -> Response:
    policy = services(request).store.policy
    return _page(
        request,
        "alerts.html",
        p,
        undo_window_s=f"{policy.undo_window.total_seconds():g}",
        max_retain_days=MAX_RETAIN_DAYS,
    )


@router.get("/alert-log", response_class=HTMLResponse, **allow(Permission.REPORT))
def alert_log_page(request: Request, p: Principal = Depends(current_principal)) -> Response:
    """Every alert's facts and decisions, without images (auditors, officers)."""
    return _page(request, "alert_log.html", p)


@router.get(
    "/deployments",
    response_class=HTMLResponse,
    **allow(
        Permission.CREATE_DEPLOYMENT, Permission.AUTHORISE_DEPLOYMENT, Permission.RUN_DEPLOYMENT, Permission.REPORT
    ),
)
def deployments_page(request: Request, p: Principal = Depends(current_principal)) -> Response:
    return _page(request, "deployments.html", p, live=live_threshold())


@router.get(
    "/deployments/{deployment_id}",
    response_class=HTMLResponse,
    **allow(
        Permission.CREATE_DEPLOYMENT, Permission.AUTHORISE_DEPLOYMENT, Permission.RUN_DEPLOYMENT, Permission.REPORT
    ),
)
def deployment_page(deployment_id: Id, request: Request, p: Principal = Depends(current_principal)) -> Response:
    return _page(request, "deployment.html", p, deployment_id=deployment_id)


@router.get("/watchlist", response_class=HTMLResponse, **allow(Permission.VIEW_WATCHLIST))
def watchlist_page(request: Request, p: Principal = Depends(current_principal)) -> Response:
    return _page(request, "watchlist.html", p)


@router.get("/reports", response_class=HTMLResponse, **allow(Permission.REPORT, roles=(Role.OPERATOR,)))
def reports_page(request: Request, p: Principal = Depends(current_principal)) -> Response:
    return _page(request, "reports.html", p)


@router.get("/reports/{deployment_id}", response_class=HTMLResponse, **allow(Permission.REPORT, roles=(Role.OPERATOR,)))
def report_page(deployment_id: Id, request: Request, p: Principal = Depends(current_principal)) -> Response:
    return _page(request, "report.html", p, deployment_id=deployment_id)


@router.get("/audit", response_class=HTMLResponse, **allow(Permission.VIEW_AUDIT))
def audit_page(request: Request, p: Principal = Depends(current_principal)) -> Response:
    return _page(request, "audit.html", p)


@router.get("/admin", response_class=HTMLResponse, **allow(Permission.MANAGE_USERS))
def admin_page(request: Request, p: Principal = Depends(current_principal)) -> Response:
    return _page(request, "admin.html", p)


ERRORS = {
    403: ("Not allowed", "Your role may not open this page or do this."),
    404: ("Not found", "There is nothing at this address (it may have been removed)."),
    409: ("Not possible now", "This cannot be done in the current state."),
    410: ("Gone", "This was destroyed (its key was shredded) and cannot be shown."),
}


def error_page(request: Request, code: int, detail: str) -> Response:
    """An HTML error page for the console (the API keeps answering JSON)."""
    title, text = ERRORS.get(code, ("Error", "The request failed."))
    p = getattr(request.state, "principal", None)
    return _page(request, "error.html", p, status_code=code, title=title, text=text, detail=detail, code=code)


@router.get("/account", response_class=HTMLResponse, **allow(roles=EVERYONE))
def account_page(request: Request, p: Principal = Depends(current_principal)) -> Response:
    """Change one's password (the only page after an admin reset) and manage one's own tokens."""
    return _page(request, "account.html", p)


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(_WEB / "static")), name="static")
