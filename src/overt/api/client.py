"""The client's address and scheme, believing forwarding headers only from trusted proxies.

``X-Forwarded-For`` is read right to left: each hop added by a trusted proxy is skipped, and the
first address not in ``trusted`` is the client. From any other peer the headers are ignored
(anyone can send them). The same settings serve ``overt serve`` and ``overt run``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=64)
def parse_trusted(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(t.strip(), strict=False) for t in trusted if t.strip())


def _in(address: str, nets: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in n for n in nets)


def _header(scope: Scope, name: bytes) -> str:
    for k, v in scope.get("headers", []):
        if k == name:
            return bytes(v).decode("latin-1")
    return ""


def _peer(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "?"


def client_address(scope: Scope, trusted: tuple[str, ...]) -> str:
    peer = _peer(scope)
    nets = parse_trusted(trusted)
    if not nets or not _in(peer, nets):
        return peer
    hops = [h.strip() for h in _header(scope, b"x-forwarded-for").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _in(hop, nets):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer
    return peer


def is_https(scope: Scope, trusted: tuple[str, ...]) -> bool:
    """Served over TLS: directly, or by a trusted proxy that says so (``X-Forwarded-Proto``)."""
    if scope.get("scheme") in ("https", "wss"):
        return True
    nets = parse_trusted(trusted)
    if nets and _in(_peer(scope), nets):
        return _header(scope, b"x-forwarded-proto").split(",")[0].strip().lower() == "https"
    return False
