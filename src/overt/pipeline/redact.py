"""Bystander redaction: blur every face that is not an alert, for annotated video and context images."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from overt.errors import StorageError
from overt.tracking.tracker import iou_matrix


@dataclass(frozen=True, slots=True, eq=False)
class LabelledBox:
    """An alerted face to draw: box and label (subject reference and similarity)."""

    xyxy: npt.NDArray[np.float32]
    label: str


def _clip_box(xyxy: npt.NDArray[np.floating], w: int, h: int, pad: float) -> tuple[int, int, int, int] | None:
    x1, y1, x2, y2 = (float(v) for v in xyxy)
    pw, ph = (x2 - x1) * pad, (y2 - y1) * pad
    a, b = max(0, int(x1 - pw)), max(0, int(y1 - ph))
    c, d = min(w, int(np.ceil(x2 + pw))), min(h, int(np.ceil(y2 + ph)))
    if c - a < 1 or d - b < 1:
        return None
    return a, b, c, d


def blur_boxes(image: npt.NDArray[np.uint8], boxes: npt.NDArray[np.float32], *, pad: float = 0.25) -> None:
    """Irreversibly redact each box in place: pixelate to 3x3 blocks, then blur (no face survives)."""
    h, w = image.shape[:2]
    for box in boxes:
        r = _clip_box(box, w, h, pad)
        if r is None:
            continue
        a, b, c, d = r
        roi = image[b:d, a:c]
        small = cv2.resize(roi, (3, 3), interpolation=cv2.INTER_AREA)
        big = cv2.resize(small, (c - a, d - b), interpolation=cv2.INTER_LINEAR)
        k = max(3, ((min(c - a, d - b) // 2) | 1))
        image[b:d, a:c] = cv2.GaussianBlur(big, (k, k), 0)


def inclusive_blur(
    tracked: npt.NDArray[np.float32],
    faint: npt.NDArray[np.float32],
    keep: npt.NDArray[np.float32],
    *,
    keep_iou: float,
) -> npt.NDArray[np.float32]:
    """The tracked faces to blur plus every faint (low-score) box that is not an alerted face.

    A faint box is taken for a kept (alerted) face, and left unblurred, when its IoU with that face's
    box is at least ``keep_iou`` or its centre lies inside it; every other faint box is blurred, so
    redaction covers faces the tracker never saw (small, turned, occluded bystanders).
    """
    faint = faint.reshape(-1, 4).astype(np.float32)
    if len(faint) and len(keep):
        keep = keep.reshape(-1, 4).astype(np.float32)
        cx, cy = (faint[:, 0] + faint[:, 2]) / 2, (faint[:, 1] + faint[:, 3]) / 2
        inside = (
            (cx[:, None] >= keep[None, :, 0])
            & (cx[:, None] <= keep[None, :, 2])
            & (cy[:, None] >= keep[None, :, 1])
            & (cy[:, None] <= keep[None, :, 3])
        )
        kept = (iou_matrix(faint, keep) >= keep_iou) | inside
        faint = faint[~kept.any(axis=1)]
    return np.concatenate([tracked.reshape(-1, 4).astype(np.float32), faint])


def draw_alerts(image: npt.NDArray[np.uint8], alerts: Sequence[LabelledBox]) -> None:
    for lb in alerts:
        x1, y1, x2, y2 = (round(float(v)) for v in lb.xyxy)
        thick = max(2, (x2 - x1) // 40)
        cv2.rectangle(image, (x1, y1), (x2, y2), (0, 0, 255), thick)
        scale = max(0.5, (x2 - x1) / 200)
        (tw, th), base = cv2.getTextSize(lb.label, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        ty = max(th + base, y1 - 4)
        cv2.rectangle(image, (x1, ty - th - base), (x1 + tw + 4, ty + base // 2), (0, 0, 255), -1)
        cv2.putText(image, lb.label, (x1 + 2, ty - base // 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1)


def redacted_frame(
    image: npt.NDArray[np.uint8],
    blur: npt.NDArray[np.float32],
    alerts: Sequence[LabelledBox],
) -> npt.NDArray[np.uint8]:
    """A copy of ``image`` with every ``blur`` box redacted and the alerts boxed and labelled."""
    out = image.copy()
    blur_boxes(out, blur)
    draw_alerts(out, alerts)
    return out


def thumbnail_jpeg(image: npt.NDArray[np.uint8], longer_side_px: int, quality: int = 80) -> bytes:
    h, w = image.shape[:2]
    scale = min(1.0, longer_side_px / max(h, w))
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)
    return encode_jpeg(image, quality)


def encode_jpeg(image: npt.NDArray[np.uint8], quality: int = 90) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - cv2 encodes any uint8 BGR image
        raise StorageError("could not encode a JPEG")
    return bytes(buf.tobytes())


class AnnotatedVideoWriter:
    """Writes redacted frames of one camera to a video file (mp4v); opened on the first frame."""

    def __init__(self, path: str | Path, fps: float = 25.0) -> None:
        self.path = Path(path)
        self.fps = fps if fps > 0 else 25.0
        self._writer: cv2.VideoWriter | None = None
        self._size: tuple[int, int] | None = None
        self.frames = 0

    def write(self, frame: npt.NDArray[np.uint8]) -> None:
        h, w = frame.shape[:2]
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fourcc = cv2.VideoWriter.fourcc(*"mp4v")
            writer = cv2.VideoWriter(str(self.path), fourcc, self.fps, (w, h))
            if not writer.isOpened():
                raise StorageError(f"cannot write annotated video {self.path}")
            self._writer = writer
            self._size = (w, h)
        if self._size != (w, h):
            frame = np.asarray(cv2.resize(frame, self._size or (w, h)), np.uint8)
        self._writer.write(frame)
        self.frames += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
