"""Attack 3: an anonymous 1 GB multipart upload was written to the temp folder before the 401, and
a 200 MB JSON body took the server from 337 MB to 988 MB RSS. Plus the upload Low items: GIF and
WebP served as image/jpeg, EPS reaching Ghostscript, a 63 MP PNG costing ~630 MB per request.

Raw sockets: the server must answer after the headers, without waiting for (or reading) the body.
"""

from __future__ import annotations

import io
import socket
import struct
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

from overt.errors import ImageError
from overt.samples import sample_image
from overt.vision.imageio import check_upload, media_type
from tests.api.conftest import Running
from tests.security.conftest import DEPLOYMENT

GB = 1024**3
FORM = {
    "subject_ref": "CASE-FMT",
    "category": "wanted_by_court",
    "reason": "warrant",
    "image_source": "custody photo",
    "legal_basis": "PACE s64A",
    "taken_on": "2025-01-01",
    "review_on": "2030-01-01",
}


@pytest.fixture
def spool_dir(tmp_path: Path) -> Iterator[Path]:
    """The server's temp folder for this test (the multipart parser spools there)."""
    d = tmp_path / "spool"
    d.mkdir()
    old = tempfile.tempdir
    tempfile.tempdir = str(d)
    try:
        yield d
    finally:
        tempfile.tempdir = old


def _raw(running: Running, head: str, body_chunks: list[bytes]) -> tuple[int, bytes]:
    """Send ``head`` and as much of the body as the server takes; the status line and reply."""
    u = urlsplit(running.url)
    with socket.create_connection((u.hostname or "127.0.0.1", u.port or 80), timeout=10) as s:
        s.sendall(head.encode())
        try:
            for chunk in body_chunks:
                s.sendall(chunk)
        except OSError:
            pass  # the server answered and closed: the rest is never read
        data = b""
        try:
            while b"\r\n\r\n" not in data or len(data) < 12:
                got = s.recv(65536)
                if not got:
                    break
                data += got
        except OSError:
            pass
    return int(data.split(b" ", 2)[1]), data


def _upload_head(length: str, extra: str = "") -> str:
    return (
        "POST /api/v1/watchlist/entries HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: multipart/form-data; boundary=b0undary\r\n" + length + extra + "\r\n"
    )


def test_anonymous_1gb_upload_is_refused_before_its_body(running: Running, spool_dir: Path) -> None:
    code, _ = _raw(running, _upload_head(f"Content-Length: {GB}\r\n"), [b"x" * 65536] * 4)
    assert code == 413
    assert list(spool_dir.iterdir()) == []


def test_anonymous_chunked_upload_is_refused_before_its_body(running: Running, spool_dir: Path) -> None:
    part = b"--b0undary\r\nContent-Disposition: form-data; name=image; filename=a.jpg\r\n\r\n" + b"x" * 60000
    chunk = b"%x\r\n%s\r\n" % (len(part), part)
    code, _reply = _raw(running, _upload_head("Transfer-Encoding: chunked\r\n"), [chunk] * 40)
    assert code == 401
    assert list(spool_dir.iterdir()) == []


def test_a_200mb_json_body_is_refused_from_its_length(running: Running) -> None:
    json_head = f"Host: x\r\nContent-Type: application/json\r\nContent-Length: {200 * 1024**2}\r\n\r\n"
    code, _ = _raw(running, "POST /api/v1/deployments HTTP/1.1\r\n" + json_head, [b"{" + b" " * 65535])
    assert code == 413
    assert _raw(running, "POST /api/v1/auth/login HTTP/1.1\r\n" + json_head, [b"{"])[0] == 413  # public too


def test_a_streamed_body_is_cut_off_at_the_limit_even_when_logged_in(running: Running) -> None:
    admin = running.login("admin")
    secret = admin.post("/api/v1/tokens", json={"name": "big-body", "kind": "user"}).json()["token"]
    admin.close()
    head = (
        "POST /api/v1/deployments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {secret}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    piece = b" " * 60000
    code, _ = _raw(running, head, [b"%x\r\n%s\r\n" % (len(piece), piece)] * 40)  # 2.4 MB > 1 MiB
    assert code == 413
    with running.client() as c:  # an ordinary body still works
        r = c.post("/api/v1/deployments", json=DEPLOYMENT, headers={"Authorization": f"Bearer {secret}"})
        assert r.status_code == 201


def _png_header_only(w: int, h: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IEND", b"")


def _encoded(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 20, 30)).save(buf, fmt)
    return buf.getvalue()


def test_format_allow_list_and_pixel_limit_from_the_header() -> None:
    with pytest.raises(ImageError, match="only JPEG, PNG or WebP"):
        check_upload(_encoded("GIF"))
    with pytest.raises(ImageError, match="only JPEG, PNG or WebP"):
        check_upload(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n")
    with pytest.raises(ImageError, match="only JPEG, PNG or WebP"):
        check_upload(_encoded("BMP"))
    with pytest.raises(ImageError, match="too large"):
        check_upload(_png_header_only(7938, 7938))  # 63 MP: refused from 33 bytes of header
    assert check_upload(_encoded("WEBP"))[0] == "WEBP"
    assert media_type(_encoded("WEBP")) == "image/webp"
    assert media_type(_encoded("PNG")) == "image/png"
    assert media_type(_encoded("JPEG")) == "image/jpeg"


def test_gif_eps_and_huge_png_uploads_are_refused(running: Running) -> None:
    wm = running.login("wm")
    for name, data in [
        ("a.gif", _encoded("GIF")),
        ("a.eps", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"),
        ("a.png", _png_header_only(7938, 7938)),
    ]:
        r = wm.post("/api/v1/watchlist/entries", files={"image": (name, data, "image/jpeg")}, data=FORM)
        assert r.status_code == 422, (name, r.text)
    wm.close()


def test_a_webp_upload_is_served_as_webp(running: Running) -> None:
    img = Image.open(sample_image("yaoming"))
    buf = io.BytesIO()
    img.save(buf, "WEBP", quality=95)
    wm = running.login("wm")
    r = wm.post(
        "/api/v1/watchlist/entries",
        files={"image": ("y.webp", buf.getvalue(), "image/webp")},
        data={**FORM, "subject_ref": "CASE-WEBP"},
    )
    assert r.status_code == 201, r.text
    got = wm.get(f"/api/v1/watchlist/entries/{r.json()['entry_id']}/image.jpg")
    assert got.headers["content-type"] == "image/webp"
    assert got.content == buf.getvalue()
    wm.close()
