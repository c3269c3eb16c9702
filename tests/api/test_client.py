"""The client address and scheme: forwarding headers are believed only from trusted proxies."""

from __future__ import annotations

from typing import Any

from overt.api.client import client_address, is_https


def _scope(peer: str, xff: str | None = None, proto: str | None = None, scheme: str = "http") -> dict[str, Any]:
    headers = []
    if xff is not None:
        headers.append((b"x-forwarded-for", xff.encode()))
    if proto is not None:
        headers.append((b"x-forwarded-proto", proto.encode()))
    return {"type": "http", "client": (peer, 5000), "headers": headers, "scheme": scheme}


def test_untrusted_peers_are_the_client() -> None:
    assert client_address(_scope("198.51.100.1", "203.0.113.9"), ()) == "198.51.100.1"
    assert client_address(_scope("198.51.100.1", "203.0.113.9"), ("10.0.0.0/8",)) == "198.51.100.1"


def test_trusted_proxy_hops_are_skipped_right_to_left() -> None:
    trusted = ("10.0.0.0/8",)
    # the client forged a first entry; the proxy appended the real address
    assert client_address(_scope("10.0.0.5", "1.2.3.4, 203.0.113.9"), trusted) == "203.0.113.9"
    assert client_address(_scope("10.0.0.5", "203.0.113.9, 10.0.0.7"), trusted) == "203.0.113.9"
    assert client_address(_scope("10.0.0.5", "garbage"), trusted) == "10.0.0.5"
    assert client_address(_scope("10.0.0.5"), trusted) == "10.0.0.5"


def test_https_directly_or_from_a_trusted_proxy_only() -> None:
    assert is_https(_scope("198.51.100.1", scheme="https"), ())
    assert not is_https(_scope("198.51.100.1", proto="https"), ())
    assert is_https(_scope("10.0.0.5", proto="https"), ("10.0.0.0/8",))
    assert not is_https(_scope("10.0.0.5", proto="http"), ("10.0.0.0/8",))
