"""Reading images safely into BGR uint8 arrays.

Handles EXIF orientation, grey, BGR(A), palette and 16-bit images, refuses decompression bombs
(``max_pixels``) and turns every decoding problem into an :class:`~overt.errors.ImageError`.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

from overt.errors import ImageError

DEFAULT_MAX_PIXELS = 64_000_000
"""Largest image (width x height) accepted by default: 64 MP, about 8000 x 8000."""


def to_bgr_uint8(image: npt.NDArray[np.generic], *, channels: str = "BGR") -> npt.NDArray[np.uint8]:
    """Convert an array of any common layout to a contiguous BGR uint8 (H, W, 3) image.

    Accepts (H, W), (H, W, 1), (H, W, 3) and (H, W, 4) arrays of uint8, uint16 (scaled by
    1/257), or floats in [0, 1]. ``channels`` names the order of a 3- or 4-channel input
    ("BGR" or "RGB"); alpha is dropped.
    """
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ImageError(f"unsupported image shape {arr.shape}")
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ImageError("image is empty")
    if arr.dtype == np.uint8:
        u8 = arr
    elif arr.dtype == np.uint16:
        u8 = (arr.astype(np.uint32) * 255 // 65535).astype(np.uint8)
    elif np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)):
            raise ImageError("image has non-finite values")
        u8 = np.clip(np.rint(arr * 255.0), 0, 255).astype(np.uint8)
    elif np.issubdtype(arr.dtype, np.integer):
        u8 = np.clip(arr, 0, 255).astype(np.uint8)
    else:
        raise ImageError(f"unsupported image dtype {arr.dtype}")
    if u8.ndim == 2:
        out = np.repeat(u8[:, :, None], 3, axis=2)
    else:
        out = u8[:, :, :3]
        if channels == "RGB":
            out = out[:, :, ::-1]
    return np.ascontiguousarray(out)


def _pil_to_bgr(img: Image.Image) -> npt.NDArray[np.uint8]:
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return to_bgr_uint8(np.asarray(img, dtype=np.uint16))
    if mode in ("I", "F"):
        arr = np.asarray(img)
        if mode == "I" and arr.size and int(arr.max()) > 255:
            return to_bgr_uint8(np.clip(arr, 0, 65535).astype(np.uint16))
        if mode == "F":
            top = float(arr.max()) if arr.size else 1.0
            return to_bgr_uint8(arr / (top if top > 1.0 else 1.0))
        return to_bgr_uint8(arr)
    if mode == "L":
        return to_bgr_uint8(np.asarray(img))
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return to_bgr_uint8(np.asarray(img.convert("RGB")), channels="RGB")


def _decode(
    source: Path | io.BytesIO, name: str, max_pixels: int, formats: tuple[str, ...] | None = None
) -> npt.NDArray[np.uint8]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source, formats=list(formats) if formats else None) as img:
                w, h = img.size
                if w * h > max_pixels:
                    raise ImageError(f"{name}: image too large ({w}x{h} = {w * h} pixels > limit {max_pixels})")
                img.load()
                return _pil_to_bgr(ImageOps.exif_transpose(img))
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"{name}: image too large (decompression bomb guard)") from exc
    except UnidentifiedImageError as exc:
        raise ImageError(f"{name}: not an image or unsupported format") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{name}: cannot decode image ({exc.__class__.__name__}: {exc})") from exc


def read_image(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> npt.NDArray[np.uint8]:
    """Read an image file as BGR uint8, upright according to its EXIF orientation."""
    p = Path(path)
    if not p.exists():
        raise ImageError(f"{p}: no such file")
    if not p.is_file():
        raise ImageError(f"{p}: not a regular file")
    if p.stat().st_size == 0:
        raise ImageError(f"{p}: file is empty (0 bytes)")
    return _decode(p, str(p), max_pixels)


def decode_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, name: str = "<bytes>") -> npt.NDArray[np.uint8]:
    """Decode image bytes (as uploaded) with the same rules as :func:`read_image`."""
    if not data:
        raise ImageError(f"{name}: empty image")
    return _decode(io.BytesIO(data), name, max_pixels)


# -- uploads: a format allow-list by magic bytes, a pixel limit read from the header --------------

UPLOAD_MAX_PIXELS = 40_000_000
"""Largest uploaded image: 40 MP is more than any portrait needs (a 63 MP PNG cost ~630 MB to decode)."""
UPLOAD_FORMATS: dict[str, str] = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
"""Pillow format name -> media type. Decoded in-process (libjpeg, zlib, libwebp): never an external
program (EPS would run Ghostscript), never GIF, TIFF, BMP or anything else."""


def sniff_format(data: bytes) -> str | None:
    """The Pillow format name from the magic bytes, if it is one of :data:`UPLOAD_FORMATS`."""
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def media_type(data: bytes) -> str:
    """The media type of stored image bytes (JPEG when unknown: older rows are all JPEG/PNG)."""
    return UPLOAD_FORMATS.get(sniff_format(data) or "JPEG", "image/jpeg")


def check_upload(data: bytes, *, max_pixels: int = UPLOAD_MAX_PIXELS, name: str = "upload") -> tuple[str, int, int]:
    """(format, width, height) of an uploaded image, read from its header only; ImageError otherwise."""
    if not data:
        raise ImageError(f"{name}: empty image")
    fmt = sniff_format(data)
    if fmt is None:
        raise ImageError(f"{name}: only JPEG, PNG or WebP images are accepted")
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as img:  # lazy: reads the header only
            w, h = img.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{name}: not a valid {fmt} image") from exc
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{name}: image too large (decompression bomb guard)") from exc
    if w * h > max_pixels:
        raise ImageError(f"{name}: image too large ({w}x{h} = {w * h} pixels > limit {max_pixels})")
    return fmt, w, h


def decode_upload(data: bytes, *, max_pixels: int = UPLOAD_MAX_PIXELS, name: str = "upload") -> npt.NDArray[np.uint8]:
    """Decode an upload: allow-listed format and size checked from the header before decoding."""
    fmt, _, _ = check_upload(data, max_pixels=max_pixels, name=name)
    return _decode(io.BytesIO(data), name, max_pixels, formats=(fmt,))
