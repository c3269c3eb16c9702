"""URI helpers: classify a source URI and remove credentials before it reaches a log or error."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]*@")


def redact_uri(uri: str) -> str:
    """``uri`` with any ``user:password@`` replaced by ``***@`` (and query secrets kept out).

    >>> redact_uri("rtsp://admin:hunter2@10.0.0.5:554/stream1")
    'rtsp://***@10.0.0.5:554/stream1'
    """
    try:
        parts = urlsplit(uri)
    except ValueError:
        return _USERINFO.sub(r"\g<scheme>***@", uri)
    if not parts.scheme or not parts.netloc:
        return _USERINFO.sub(r"\g<scheme>***@", uri)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    # Query strings often carry tokens (``?token=...``): keep their keys only.
    query = "&".join(f"{kv.split('=', 1)[0]}=***" if "=" in kv else kv for kv in parts.query.split("&") if kv)
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
