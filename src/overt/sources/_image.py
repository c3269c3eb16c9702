"""Turn what OpenCV's ``VideoCapture.read`` returns into the BGR uint8 image a ``Frame`` holds."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt


def decoded_bgr(image: Any) -> npt.NDArray[np.uint8] | None:
    """A contiguous BGR uint8 (H, W, 3) copy-free view of ``image``; ``None`` if it is unusable."""
    if not isinstance(image, np.ndarray) or image.size == 0:
        return None
    arr: npt.NDArray[Any] = image
    if arr.dtype != np.uint8:
        if arr.dtype == np.uint16:
            arr = (arr >> 8).astype(np.uint8)
        else:
            return None
    if arr.ndim == 2:
        arr = cv2.cvtColor(arr, cv2.COLOR_GRAY2BGR)
    elif arr.ndim == 3 and arr.shape[2] == 4:
        arr = cv2.cvtColor(arr, cv2.COLOR_BGRA2BGR)
    elif arr.ndim == 3 and arr.shape[2] == 1:
        arr = cv2.cvtColor(arr, cv2.COLOR_GRAY2BGR)
    elif arr.ndim != 3 or arr.shape[2] != 3:
        return None
    out: npt.NDArray[np.uint8] = np.ascontiguousarray(arr)
    return out


def fourcc_of(cap: cv2.VideoCapture) -> str | None:
    """The codec of an open capture as its FourCC text (``h264``, ``MJPG``...), or ``None``."""
    code = int(cap.get(cv2.CAP_PROP_FOURCC))
    if code <= 0:
        return None
    text = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4))
    return text if text.isprintable() and text.strip() else None
