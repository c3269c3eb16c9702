"""Camera identity: pin an https:// or rtsps:// camera's TLS certificate by its SHA-256.

``SourceConfig.tls_pins`` maps ``host:port`` to the SHA-256 (hex, colons allowed) of the DER
certificate the camera must present. Before every open (and so every reconnect) the live source
fetches the certificate the camera presents now (:func:`presented_cert_sha256`) and refuses the
camera when it differs: a swapped camera, or someone in the middle, gets no frame in.

The check is a TLS handshake of its own just before FFmpeg's; when the pinned certificate is
self-signed and no ``tls_ca_file`` is set, FFmpeg is also told to verify against exactly that
certificate, so a swap between the two handshakes fails as well.
"""

from __future__ import annotations

import hashlib
import re
import socket
import ssl
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from overt.errors import ConfigError, VideoError

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
DEFAULT_PORTS = {"https": 443, "rtsps": 322}


def normalise_fingerprint(text: str) -> str:
    fp = text.strip().lower().replace(":", "")
    if not _HEX64.match(fp):
        raise ConfigError("a certificate pin is a SHA-256 fingerprint: 64 hex digits (colons allowed)")
    return fp


def endpoint(uri: str) -> tuple[str, int] | None:
    """(host, port) of an https:// or rtsps:// URI, else ``None``."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.hostname, parts.port or DEFAULT_PORTS[scheme]


def pin_for(uri: str, pins: dict[str, str]) -> str | None:
    """The normalised pin configured for ``uri``'s host:port, if any."""
    ep = endpoint(uri)
    if ep is None or not pins:
        return None
    host, port = ep
    for key in (f"{host}:{port}", f"[{host}]:{port}"):
        if key in pins:
            return normalise_fingerprint(pins[key])
    return None


def presented_cert(host: str, port: int, timeout_s: float) -> bytes:
    """The DER certificate the server at host:port presents (no verification: we compare it)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection((host, port), timeout=timeout_s) as raw,
            ctx.wrap_socket(raw, server_hostname=host) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError) as exc:
        raise VideoError(f"TLS handshake failed: {type(exc).__name__}") from None
    if not der:
        raise VideoError("the camera presented no certificate")
    return der


def cert_sha256(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def self_signed_pem(der: bytes) -> bytes | None:
    """The certificate as PEM when it is self-signed (issuer == subject), else ``None``."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    if cert.issuer != cert.subject:
        return None
    return cert.public_bytes(Encoding.PEM)
