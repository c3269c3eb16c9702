"""``/public/``: the public site, no login. A thin adapter over :mod:`overt.transparency.site`.

Responses carry an ETag and ``Cache-Control: public`` (a CDN can carry them; ``If-None-Match``
gets a 304), and each client address is rate-limited.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from overt.api.deps import services
from overt.api.security import allow
from overt.transparency.public import PublicSite
from overt.transparency.site import SiteRenderer

router = APIRouter(include_in_schema=False)
PUBLIC = allow(public=True)


def cache_control(media_type: str) -> str:
    """Pages revalidate every time (a status changes when a deployment starts); data may be a minute old."""
    if media_type.startswith("text/html"):
        return "public, no-cache"
    if media_type.startswith("text/css"):
        return "public, max-age=3600"
    return "public, max-age=60"


class RateLimiter:
    """At most ``limit`` requests per ``window_s`` per client address (sliding window, in memory)."""

    def __init__(self, limit: int, window_s: float = 60.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after_s(self, key: str) -> float:
        """0 if the request may go ahead (and counts it), else seconds to wait."""
        now = time.monotonic()
        with self._lock:
            if len(self._hits) > 10_000:  # forget idle addresses
                self._hits = {k: v for k, v in self._hits.items() if v and now - v[-1] < self.window_s}
            q = self._hits.setdefault(key, deque())
            while q and now - q[0] >= self.window_s:
                q.popleft()
            if len(q) >= self.limit:
                return max(0.1, self.window_s - (now - q[0]))
            q.append(now)
            return 0.0


def _limiter(request: Request) -> RateLimiter:
    app = request.app
    lim = getattr(app.state, "public_limiter", None)
    if lim is None:
        lim = RateLimiter(services(request).settings.public_rate_limit_per_min)
        app.state.public_limiter = lim
    return lim


def _serve(request: Request, path: str) -> Response:
    client = services(request).auth.address(request)  # X-Forwarded-For only from trusted proxies
    wait = _limiter(request).retry_after_s(client)
    if wait:
        return Response(
            "Too many requests; try again shortly.\n",
            status_code=429,
            media_type="text/plain",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    svc = services(request)
    site = PublicSite.for_data_dir(svc.store, svc.settings.data_dir)
    page = SiteRenderer(site).render(path)
    if page is None:
        return Response("Not found.\n", status_code=404, media_type="text/plain")
    headers = {"ETag": page.etag, "Cache-Control": cache_control(page.media_type), "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == page.etag:
        return Response(status_code=304, headers=headers)
    return Response(page.body, media_type=page.media_type, headers=headers)


@router.get("/public", **PUBLIC)
def public_root() -> Response:
    return RedirectResponse("/public/", status_code=308)


@router.get("/public/", **PUBLIC)
def public_index(request: Request) -> Response:
    return _serve(request, "index.html")


@router.get("/public/{path:path}", **PUBLIC)
def public_file(path: str, request: Request) -> Response:
    return _serve(request, path)


def install(app: FastAPI) -> None:
    app.include_router(router)
