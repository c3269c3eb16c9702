"""ASGI middleware that acts before any handler or dependency runs.

:class:`BodyLimit` bounds every request body before authentication: ``Content-Length`` over the
route's limit is answered 413 without reading a byte; a streamed (chunked) body is counted as
it arrives and cut off at the limit. Limits are per route: the upload limit for image uploads,
a larger one for device ingest (base64 JPEGs), a small one for everything else (JSON, forms).
A route that is not public (``anonymous`` in its OpenAPI ``x-roles``; routes outside the schema
count as not public) is not given a body at all by a caller without valid credentials:
an anonymous upload is refused (401) before its first byte is read, so nothing reaches memory,
the temp folder or the multipart parser.

:class:`TransportHeaders` adds ``Strict-Transport-Security`` when served over TLS (directly or
by a trusted proxy that says so) and ``Cache-Control: no-store`` on API JSON that sets none.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from fastapi import HTTPException
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from overt.api.client import is_https
from overt.api.settings import ApiSettings

UPLOAD_ROUTES = frozenset({("POST", "/api/v1/watchlist/entries")})
INGEST_ROUTES = frozenset({("POST", "/api/v1/ingest/alerts")})
MULTIPART_OVERHEAD = 256 * 1024  # the form's other fields and boundaries
HSTS = b"max-age=31536000; includeSubDomains"


class _TooLargeError(Exception):
    pass


async def _reply(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                (b"cache-control", b"no-store"),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    def __init__(self, app: ASGIApp, *, settings: ApiSettings, authenticated: Callable[[HTTPConnection], bool]) -> None:
        self.app = app
        self.settings = settings
        self.authenticated = authenticated
        self._public_ops: list[tuple[str, re.Pattern[str]]] | None = None

    def limit_for(self, method: str, path: str) -> int:
        if (method, path) in UPLOAD_ROUTES:
            return self.settings.max_upload_bytes + MULTIPART_OVERHEAD
        if (method, path) in INGEST_ROUTES:
            return self.settings.max_ingest_bytes
        return self.settings.max_json_bytes

    def _public(self, scope: Scope) -> list[tuple[str, re.Pattern[str]]]:
        """(method, path pattern) of the public operations, read once from the app's OpenAPI."""
        if self._public_ops is None:
            openapi = getattr(scope.get("app"), "openapi", None)
            doc: dict[str, Any] = openapi() if callable(openapi) else {}
            ops: list[tuple[str, re.Pattern[str]]] = []
            for path, item in doc.get("paths", {}).items():
                for method, op in item.items():
                    if "anonymous" in op.get("x-roles", ()):
                        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path))
                        ops.append((method.upper(), re.compile(pattern + r"\Z")))
            self._public_ops = ops
        return self._public_ops

    def is_public(self, scope: Scope) -> bool:
        method, path = scope["method"], str(scope.get("path", ""))
        return any(m == method and p.match(path) for m, p in self._public(scope))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict((k.lower(), v) for k, v in scope.get("headers", []))
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        raw_length = headers.get(b"content-length")
        try:
            length = int(raw_length) if raw_length is not None else None
        except ValueError:
            await _reply(send, 400, "malformed Content-Length")
            return
        if length is not None and length < 0:
            await _reply(send, 400, "malformed Content-Length")
            return
        has_body = chunked or (length or 0) > 0
        if not has_body:
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["method"], str(scope.get("path", "")))
        if length is not None and length > limit:
            await _reply(send, 413, f"request body too large (limit {limit} bytes)")
            return
        if not self.is_public(scope):
            conn = HTTPConnection(scope)
            try:
                ok = await anyio.to_thread.run_sync(self.authenticated, conn)
            except HTTPException as exc:
                await _reply(send, exc.status_code, str(exc.detail), [(b"www-authenticate", b"Bearer")])
                return
            if not ok:
                await _reply(send, 401, "not logged in", [(b"www-authenticate", b"Bearer")])
                return
        await self._counted(scope, receive, send, limit)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        total = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal total, exceeded
            message = await receive()
            if message["type"] == "http.request":
                total += len(message.get("body", b""))
                if total > limit:
                    exceeded = True
                    raise _TooLargeError
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the app's answer to a cut-off body is replaced by the 413 below
            started = True
            await send(message)

        with contextlib.suppress(_TooLargeError):
            await self.app(scope, limited_receive, guarded_send)
        if exceeded and not started:
            await _reply(send, 413, f"request body too large (limit {limit} bytes)")


class TransportHeaders:
    def __init__(self, app: ASGIApp, *, settings: ApiSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = is_https(scope, self.settings.trusted_proxies)
        api = str(scope.get("path", "")).startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                if https and b"strict-transport-security" not in present:
                    headers.append((b"strict-transport-security", HSTS))
                ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if api and ctype.startswith(b"application/json") and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
