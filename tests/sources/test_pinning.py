"""Camera identity: a pinned HTTPS camera is accepted; the same address with another certificate is refused."""

from __future__ import annotations

import hashlib
import ssl
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from overt.config import SourceConfig
from overt.errors import ConfigError
from overt.sources import LiveSource
from overt.sources.pinning import endpoint, normalise_fingerprint, pin_for
from tests.sources.servers import MjpegServer, free_tcp_port, self_signed_tls
from tests.sources.test_live import read_frames, unavailable


def _cert(directory: Path) -> tuple[ssl.SSLContext, str]:
    directory.mkdir()
    tls = self_signed_tls(directory)
    if tls is None:
        unavailable("openssl CLI not installed")
    ctx, pem = tls
    der = ssl.PEM_cert_to_DER_cert(pem.read_text())
    return ctx, hashlib.sha256(der).hexdigest()


def _frames() -> list[npt.NDArray[np.uint8]]:
    rng = np.random.default_rng(3)
    return [rng.integers(0, 255, (120, 160, 3), dtype=np.uint8) for _ in range(8)]


@pytest.mark.timeout(90)
def test_pinned_camera_accepted_and_swapped_certificate_refused(tmp_path: Path) -> None:
    ctx_a, fp_a = _cert(tmp_path / "a")
    ctx_b, fp_b = _cert(tmp_path / "b")
    assert fp_a != fp_b
    frames = _frames()
    port = free_tcp_port()
    colons = ":".join(fp_a[i : i + 2] for i in range(0, 64, 2)).upper()  # as browsers show it
    cfg = SourceConfig(
        open_timeout_s=3, read_timeout_s=2, buffer_frames=50, backoff_initial_s=0.1, backoff_max_s=0.5,
        tls_pins={f"127.0.0.1:{port}": colons},
    )  # fmt: skip
    # Pinned, self-signed, no tls_ca_file: accepted, and FFmpeg verified against the pinned cert.
    with (
        MjpegServer(lambda i: frames[i % 8], fps=50, tls=ctx_a, port=port) as server,
        LiveSource(server.url(), config=cfg) as src,
    ):
        assert src.pinned_cert_sha256 == fp_a
        assert len(read_frames(src, 10, 15.0)) == 10
        assert src.stats().tls_pin_refusals == 0
        src.close()
    # The camera at that address is swapped for one with another certificate: refused.
    with (
        MjpegServer(lambda i: frames[i % 8], fps=50, tls=ctx_b, port=port) as server,
        LiveSource(server.url(), config=cfg) as src,
    ):
        assert read_frames(src, 1, 3.0) == []
        deadline = time.monotonic() + 5
        while src.stats().tls_pin_refusals < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        stats = src.stats()
        src.close()
        assert stats.tls_pin_refusals >= 2  # every reconnect is checked again
        assert stats.last_error is not None
        assert "certificate changed" in stats.last_error
        assert fp_b[:16] in stats.last_error
        assert server.connections == 0  # FFmpeg never got to ask for video


def test_pin_lookup_and_validation() -> None:
    fp = "ab" * 32
    assert endpoint("https://cam.local/v.mjpg") == ("cam.local", 443)
    assert endpoint("rtsps://u:p@10.0.0.5/s") == ("10.0.0.5", 322)
    assert endpoint("rtsp://10.0.0.5/s") is None
    assert pin_for("rtsps://u:p@10.0.0.5/s", {"10.0.0.5:322": fp.upper()}) == fp
    assert pin_for("https://10.0.0.5:8443/v", {"10.0.0.5:322": fp}) is None
    assert normalise_fingerprint(":".join([fp[i : i + 2] for i in range(0, 64, 2)])) == fp
    with pytest.raises(ConfigError):
        normalise_fingerprint("abc")
    with pytest.raises(ConfigError):
        LiveSource("https://127.0.0.1:1/v", config=SourceConfig(tls_pins={"127.0.0.1:1": "nope"}))
