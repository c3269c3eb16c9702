"""SCRFD (InsightFace) ONNX face detector with five landmarks.

Letterbox into an input of at most 640 x 640 (the resized image rounded up to a multiple of 32),
decode strides 8/16/32 with two anchors per cell, non-maximum suppression, and map boxes and
landmarks back to the original image.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import cv2
import numpy as np
import numpy.typing as npt

from overt.domain.detections import FaceDetections
from overt.errors import ConfigError, InputError
from overt.vision.models import ModelRegistry

if TYPE_CHECKING:
    import onnxruntime

_STRIDES = (8, 16, 32)
_NUM_ANCHORS = 2


def _checked_size(size: int) -> int:
    if size % 32 or size < 64:
        raise ConfigError(f"detector input_size_px must be a multiple of 32 and >= 64, got {size}")
    return size


def nms(boxes: npt.NDArray[np.float32], scores: npt.NDArray[np.float32], iou_threshold: float) -> list[int]:
    """Greedy non-maximum suppression; returns kept indices, best score first."""
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = scores.argsort()[::-1]
    keep: list[int] = []
    while order.size > 0:
        i = int(order[0])
        keep.append(i)
        xx1 = np.maximum(x1[i], x1[order[1:]])
        yy1 = np.maximum(y1[i], y1[order[1:]])
        xx2 = np.minimum(x2[i], x2[order[1:]])
        yy2 = np.minimum(y2[i], y2[order[1:]])
        inter = np.maximum(0.0, xx2 - xx1 + 1) * np.maximum(0.0, yy2 - yy1 + 1)
        iou = inter / (areas[i] + areas[order[1:]] - inter)
        order = order[np.where(iou <= iou_threshold)[0] + 1]
    return keep


class ScrfdDetector:
    """SCRFD detector. Thread-safe: ONNX Runtime sessions may be run from several threads."""

    def __init__(
        self,
        registry: ModelRegistry | None = None,
        *,
        model_id: str = "scrfd_500m_bnkps",
        input_size_px: int | None = None,
        score_threshold: float = 0.5,
        nms_iou: float = 0.4,
        max_faces: int = 100,
        max_upscale: float = 2.0,
        threads: int = 0,
    ) -> None:
        self._registry = registry or ModelRegistry()
        spec = self._registry.get(model_id)
        if spec.kind != "detector" or spec.format != "onnx":
            raise ConfigError(f"model {model_id} is not an ONNX detector")
        size = _checked_size(input_size_px or spec.input_size_px)
        if not 0.0 < score_threshold < 1.0:
            raise ConfigError("score_threshold must lie in (0, 1)")
        self.model_id = model_id
        self.input_size_px = size
        self.score_threshold = score_threshold
        self.nms_iou = nms_iou
        self.max_faces = max_faces
        if max_upscale < 1.0:
            raise ConfigError("max_upscale must be >= 1")
        self.max_upscale = max_upscale
        self._mean = spec.mean
        self._std = spec.std
        self._rgb = spec.colour_order == "RGB"
        self._threads = threads
        self._lock = threading.Lock()
        self._anchor_cache: dict[tuple[int, int, int], npt.NDArray[np.float32]] = {}
        self._sess: onnxruntime.InferenceSession | None = None

    def _session(self) -> onnxruntime.InferenceSession:
        if self._sess is None:
            with self._lock:
                if self._sess is None:
                    self._sess = self._registry.onnx_session(self.model_id, threads=self._threads)
        return self._sess

    def at_input_size(self, input_size_px: int) -> ScrfdDetector:
        """This detector at another input size (same settings and ONNX session: its input is dynamic)."""
        other = copy.copy(self)
        other.input_size_px = _checked_size(input_size_px)
        other._anchor_cache = {}
        return other

    def warm_up(self) -> None:
        """Load the model now (sessions are otherwise created on first use)."""
        self._session()

    def _anchors(self, height: int, width: int, stride: int) -> npt.NDArray[np.float32]:
        key = (height, width, stride)
        centres = self._anchor_cache.get(key)
        if centres is None:
            ys, xs = np.mgrid[:height, :width]
            grid = np.stack([xs, ys], axis=-1).astype(np.float32) * stride
            centres = np.repeat(grid.reshape(-1, 2), _NUM_ANCHORS, axis=0)
            self._anchor_cache[key] = centres
        return centres

    def canvas_hw(self, height: int, width: int) -> tuple[int, int, float]:
        """The input (height, width) an image of ``height`` x ``width`` px is letterboxed into, and
        its scale: the resized image rounded up to a multiple of 32 (the largest stride), at most
        ``input_size_px`` a side. SCRFD is fully convolutional (dynamic input axes), so a 16:9
        frame runs as 640 x 384 instead of 640 x 640: the same scale and faces, ~40 % less compute
        than a square of mostly padding."""
        size = self.input_size_px
        if height < 1 or width < 1:
            raise InputError(f"detector input is empty ({width}x{height} px)")
        # Never enlarge more than max_upscale: a close-up blown up to the full input is a face
        # larger than the biggest anchors, and SCRFD misses it.
        scale = min(size / height, size / width, self.max_upscale)
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        return min(size, -(-new_h // 32) * 32), min(size, -(-new_w // 32) * 32), scale

    def letterbox(self, image: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.float32], float]:
        """Resize keeping aspect ratio into the top-left of the input (:meth:`canvas_hw`); return
        blob and scale.

        One resize straight into the zero canvas, then one ``blobFromImage`` pass (channel swap,
        mean, scale, HWC to NCHW) instead of several numpy passes.
        """
        h, w = image.shape[:2]
        canvas_h, canvas_w, scale = self.canvas_hw(h, w)
        new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        canvas = np.zeros((canvas_h, canvas_w, 3), np.uint8)
        if (new_w, new_h) == (w, h):
            canvas[:h, :w] = image
        else:
            region = canvas[:new_h, :new_w]
            resized = cv2.resize(image, (new_w, new_h), dst=region, interpolation=interp)
            if not np.shares_memory(resized, canvas):  # OpenCV could not write in place
                region[...] = resized
        blob = cv2.dnn.blobFromImage(
            canvas, 1.0 / self._std, (canvas_w, canvas_h), (self._mean, self._mean, self._mean), swapRB=self._rgb
        )
        return np.asarray(blob, np.float32), scale

    def detect(self, image: npt.NDArray[np.uint8], *, score_threshold: float | None = None) -> FaceDetections:
        return self.detect_batch([image], score_threshold=score_threshold)[0]

    def detect_batch(
        self, images: Sequence[npt.NDArray[np.uint8]], *, score_threshold: float | None = None
    ) -> list[FaceDetections]:
        """Detect in several images with one session run (the model's batch axis is dynamic).

        Each image is letterboxed on its own; the result per image is that of :meth:`detect`.
        """
        for image in images:
            if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
                raise InputError("detector input must be a BGR uint8 (H, W, 3) image")
        if not images:
            return []
        thresh = self.score_threshold if score_threshold is None else score_threshold
        boxed = [self.letterbox(image) for image in images]
        # One session run per input shape (cameras of one resolution share one), so each image's
        # result is exactly that of detect().
        groups: dict[tuple[int, ...], list[int]] = {}
        for n, (blob, _) in enumerate(boxed):
            groups.setdefault(blob.shape, []).append(n)
        sess = self._session()
        found: list[FaceDetections] = [FaceDetections.empty()] * len(images)
        for members in groups.values():
            blob = boxed[members[0]][0] if len(members) == 1 else np.concatenate([boxed[n][0] for n in members])
            outs = [np.asarray(o) for o in sess.run(None, {sess.get_inputs()[0].name: blob})]
            for k, n in enumerate(members):
                found[n] = self._decode(outs, k, images[n].shape[:2], blob.shape[2:], boxed[n][1], thresh)
        return found

    def _decode(
        self,
        outs: list[npt.NDArray[np.float32]],
        n: int,
        shape: tuple[int, ...],
        input_hw: tuple[int, ...],
        scale: float,
        thresh: float,
    ) -> FaceDetections:
        """The faces of batch item ``n`` of the session's outputs (input ``input_hw``), in its image's pixels."""
        all_scores, all_boxes, all_kps = [], [], []
        n_levels = len(_STRIDES)
        for level, stride in enumerate(_STRIDES):
            scores = outs[level][n].reshape(-1)
            keep = np.flatnonzero(scores >= thresh)
            if keep.size == 0:
                continue
            # Decode only the anchors that pass the threshold (a few dozen of ~16800).
            boxes = outs[level + n_levels][n].reshape(-1, 4)[keep] * stride
            kps = outs[level + 2 * n_levels][n].reshape(-1, 10)[keep] * stride
            c = self._anchors(input_hw[0] // stride, input_hw[1] // stride, stride)[keep]
            all_boxes.append(np.concatenate([c - boxes[:, :2], c + boxes[:, 2:]], axis=1))
            all_kps.append(kps.reshape(-1, 5, 2) + c[:, None, :])
            all_scores.append(scores[keep])
        if not all_scores:
            return FaceDetections.empty()
        scores_a = np.concatenate(all_scores).astype(np.float32)
        boxes_a = (np.concatenate(all_boxes) / scale).astype(np.float32)
        kps_a = (np.concatenate(all_kps) / scale).astype(np.float32)
        keep_idx = nms(boxes_a, scores_a, self.nms_iou)[: self.max_faces]
        h, w = shape[0], shape[1]
        boxes_k = boxes_a[keep_idx]
        boxes_k[:, [0, 2]] = np.clip(boxes_k[:, [0, 2]], 0, w)
        boxes_k[:, [1, 3]] = np.clip(boxes_k[:, [1, 3]], 0, h)
        return FaceDetections(xyxy=boxes_k, scores=np.clip(scores_a[keep_idx], 0.0, 1.0), landmarks5=kps_a[keep_idx])
