"""Uploads parsed in memory: a watch-list image never touches the disk unencrypted.

Starlette's form parser spools every uploaded file larger than 1 MB to the temp folder (a
``SpooledTemporaryFile``), in clear. Routes of :class:`InMemoryUploadRoute` read a multipart
body into memory first, refusing it as soon as it exceeds the upload limit (413; the rest is
never read), then parse it from memory with a parser that never rolls over to disk. The
endpoint's ``UploadFile`` parameters work as before (and so does the OpenAPI schema).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute
from starlette.formparsers import MultiPartException, MultiPartParser

from overt.api.deps import services
from overt.errors import InputError

FORM_OVERHEAD_BYTES = 64 * 1024
"""Room for the text fields and multipart boundaries beside the file itself."""


class _MemoryMultiPartParser(MultiPartParser):
    def __init__(self, *args: Any, in_memory_bytes: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spool_max_size = in_memory_bytes + 1  # the body is capped below this: never rolls over


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _too_large(limit: int) -> HTTPException:
    return HTTPException(status_code=413, detail=f"upload too large (the image may be at most {limit} bytes)")


async def read_form_in_memory(request: Request, limit: int) -> None:
    """Read and parse a multipart body in memory (at most ``limit`` + form overhead bytes)."""
    cap = limit + FORM_OVERHEAD_BYTES
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > cap:
            raise _too_large(limit)
    parser = _MemoryMultiPartParser(
        request.headers, _once(bytes(body)), max_files=1, max_fields=32, in_memory_bytes=cap
    )
    try:
        request._form = await parser.parse()  # what Request.form() caches and returns to FastAPI
    except MultiPartException as exc:
        raise InputError(f"malformed upload: {exc.message}") from None


class InMemoryUploadRoute(APIRoute):
    """An API route whose multipart bodies are parsed in memory under the upload limit."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def in_memory(request: Request) -> Response:
            if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
                await read_form_in_memory(request, services(request).settings.max_upload_bytes)
            return await handler(request)

        return in_memory
