from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from overt.errors import ImageError
from overt.vision.imageio import decode_image, read_image, to_bgr_uint8

Img = npt.NDArray[np.uint8]


def _asym_rgb(h: int = 40, w: int = 60) -> Img:
    """An RGB image whose top-left quadrant is red, the rest blue: orientation is visible."""
    a = np.zeros((h, w, 3), np.uint8)
    a[:, :, 2] = 255
    a[: h // 2, : w // 2] = (255, 0, 0)
    return a


def test_exif_orientation_6_is_rotated_upright(tmp_path: Path) -> None:
    # Orientation 6: the stored pixels must be rotated 90 degrees clockwise for display.
    stored = _asym_rgb(40, 60)
    exif = Image.Exif()
    exif[0x0112] = 6
    p = tmp_path / "rotated.jpg"
    Image.fromarray(stored).save(p, quality=95, exif=exif.tobytes())
    out = read_image(p)
    assert out.shape == (60, 40, 3)
    # The red quadrant was top-left when stored; rotated clockwise it is top-right.
    top_right, top_left = out[5, 35], out[5, 5]
    assert top_right[2] > 200
    assert top_right[0] < 60
    assert top_left[0] > 200
    assert top_left[2] < 60


def test_plain_rgb_to_bgr(tmp_path: Path) -> None:
    p = tmp_path / "a.png"
    Image.fromarray(_asym_rgb()).save(p)
    out = read_image(p)
    assert out.dtype == np.uint8
    assert out.shape == (40, 60, 3)
    assert out.flags.c_contiguous
    np.testing.assert_array_equal(out[0, 0], [0, 0, 255])


def test_grey(tmp_path: Path) -> None:
    p = tmp_path / "g.png"
    Image.fromarray(np.full((5, 7), 77, np.uint8), mode="L").save(p)
    out = read_image(p)
    assert out.shape == (5, 7, 3)
    assert np.all(out == 77)


def test_palette(tmp_path: Path) -> None:
    p = tmp_path / "p.png"
    Image.fromarray(_asym_rgb()).convert("P", palette=Image.Palette.ADAPTIVE, colors=4).save(p)
    out = read_image(p)
    assert out.shape == (40, 60, 3)
    np.testing.assert_array_equal(out[0, 0], [0, 0, 255])


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_is_composited_on_white(tmp_path: Path, mode: str) -> None:
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 3] = 0  # fully transparent -> white
    rgba[0, 0] = (0, 0, 0, 255)  # one opaque black pixel
    img = Image.fromarray(rgba, mode="RGBA").convert(mode)
    p = tmp_path / f"{mode}.png"
    img.save(p)
    out = read_image(p)
    assert out.shape == (4, 4, 3)
    np.testing.assert_array_equal(out[0, 0], [0, 0, 0])
    np.testing.assert_array_equal(out[3, 3], [255, 255, 255])


def test_16_bit_png(tmp_path: Path) -> None:
    arr = np.array([[0, 65535], [257 * 100, 257 * 200]], np.uint16)
    p = tmp_path / "16.png"
    Image.fromarray(arr).save(p)
    out = read_image(p)
    np.testing.assert_array_equal(out[:, :, 0], [[0, 255], [100, 200]])


def test_array_conversions() -> None:
    f = np.array([[0.0, 1.0], [0.5, 2.0]], np.float32)
    np.testing.assert_array_equal(to_bgr_uint8(f)[:, :, 1], [[0, 255], [128, 255]])
    u16 = np.full((2, 2, 3), 65535, np.uint16)
    assert np.all(to_bgr_uint8(u16) == 255)
    rgb = np.zeros((1, 1, 3), np.uint8)
    rgb[0, 0] = (1, 2, 3)
    np.testing.assert_array_equal(to_bgr_uint8(rgb, channels="RGB")[0, 0], [3, 2, 1])
    bgra = np.zeros((1, 1, 4), np.uint8)
    bgra[0, 0] = (1, 2, 3, 4)
    np.testing.assert_array_equal(to_bgr_uint8(bgra)[0, 0], [1, 2, 3])
    assert to_bgr_uint8(np.zeros((3, 3, 1), np.uint8)).shape == (3, 3, 3)
    np.testing.assert_array_equal(to_bgr_uint8(np.array([[-5, 300]], np.int32))[0, :, 0], [0, 255])


@pytest.mark.parametrize(
    ("array", "match"),
    [
        (np.zeros((2, 2, 2), np.uint8), "shape"),
        (np.zeros((2,), np.uint8), "shape"),
        (np.zeros((0, 2, 3), np.uint8), "empty"),
        (np.array([[np.nan]], np.float32), "non-finite"),
        (np.zeros((2, 2), np.complex64), "dtype"),
    ],
)
def test_bad_arrays(array: np.ndarray, match: str) -> None:
    with pytest.raises(ImageError, match=match):
        to_bgr_uint8(array)


def _jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("make", "match"),
    [
        ("zero", "empty"),
        ("truncated", "cannot decode"),
        ("text", "not an image"),
        ("dir", "not a regular file"),
        ("missing", "no such file"),
    ],
)
def test_bad_files_raise_image_error(tmp_path: Path, make: str, match: str) -> None:
    p = tmp_path / "x.jpg"
    if make == "zero":
        p.write_bytes(b"")
    elif make == "truncated":
        p.write_bytes(_jpeg_bytes()[:300])
    elif make == "text":
        p.write_text("this is not a picture\n")
    elif make == "dir":
        p.mkdir()
    with pytest.raises(ImageError, match=match) as info:
        read_image(p)
    assert str(p) in str(info.value)
    assert "\n" not in str(info.value)


def test_decompression_bomb_over_max_pixels(tmp_path: Path) -> None:
    p = tmp_path / "big.png"
    Image.new("L", (2000, 1000)).save(p)
    with pytest.raises(ImageError, match="too large"):
        read_image(p, max_pixels=1_000_000)
    assert read_image(p, max_pixels=2_000_000).shape == (1000, 2000, 3)


def test_pillow_bomb_guard_is_an_image_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "big.png"
    Image.new("L", (300, 300)).save(p)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    with pytest.raises(ImageError, match="too large"):
        read_image(p)


def test_decode_image_bytes() -> None:
    assert decode_image(_jpeg_bytes()).shape == (64, 64, 3)
    with pytest.raises(ImageError, match="empty"):
        decode_image(b"")
    with pytest.raises(ImageError, match=r"upload\.jpg"):
        decode_image(b"GIF89a nonsense", name="upload.jpg")


def test_32_bit_integer_and_float_tiffs(tmp_path: Path) -> None:
    big = np.array([[0, 65535], [1000, 70000]], np.int32)
    p = tmp_path / "i.tif"
    Image.fromarray(big, mode="I").save(p)
    np.testing.assert_array_equal(read_image(p)[:, :, 0], [[0, 255], [3, 255]])
    small = np.array([[0, 100], [200, 255]], np.int32)
    Image.fromarray(small, mode="I").save(p)
    np.testing.assert_array_equal(read_image(p)[:, :, 0], [[0, 100], [200, 255]])
    f = tmp_path / "f.tif"
    Image.fromarray(np.array([[0.0, 0.5], [1.0, 0.25]], np.float32), mode="F").save(f)
    np.testing.assert_array_equal(read_image(f)[:, :, 0], [[0, 128], [255, 64]])
    Image.fromarray(np.array([[0.0, 510.0]], np.float32), mode="F").save(f)
    np.testing.assert_array_equal(read_image(f)[:, :, 0], [[0, 255]])
