"""YuNet (OpenCV Zoo, MIT) face detector with five landmarks, run by OpenCV's ``FaceDetectorYN``.

The image is resized (never enlarged more than ``max_upscale``) so its longer side is at most
``input_size_px``; YuNet takes any input shape (OpenCV pads to a multiple of 32), so there is no
letterbox. Boxes and landmarks are mapped back to the original image. OpenCV's detector object
holds its input shape and is not thread-safe: one lock serialises calls; changing the input shape
between calls costs nothing measurable.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from overt.domain.detections import FaceDetections
from overt.errors import ConfigError, InputError, ModelError
from overt.vision.models import ModelRegistry


class YuNetDetector:
    """YuNet 2023mar through ``cv2.FaceDetectorYN``."""

    def __init__(
        self,
        registry: ModelRegistry | None = None,
        *,
        model_id: str = "yunet_2023mar",
        input_size_px: int = 640,
        score_threshold: float = 0.6,
        nms_iou: float = 0.3,
        max_faces: int = 100,
        max_upscale: float = 2.0,
    ) -> None:
        self._registry = registry or ModelRegistry()
        spec = self._registry.get(model_id)
        if spec.kind != "detector" or spec.format != "onnx":
            raise ConfigError(f"model {model_id} is not an ONNX detector")
        if input_size_px < 64:
            raise ConfigError(f"detector input_size_px must be >= 64, got {input_size_px}")
        if not 0.0 < score_threshold < 1.0:
            raise ConfigError("score_threshold must lie in (0, 1)")
        if max_upscale < 1.0:
            raise ConfigError("max_upscale must be >= 1")
        self.model_id = model_id
        self.input_size_px = input_size_px
        self.score_threshold = score_threshold
        self.nms_iou = nms_iou
        self.max_faces = max_faces
        self.max_upscale = max_upscale
        self._lock = threading.Lock()
        self._net_obj: Any = None

    def at_input_size(self, input_size_px: int) -> YuNetDetector:
        """This detector at another input size (same settings, its own OpenCV network)."""
        if input_size_px < 64:
            raise ConfigError(f"detector input_size_px must be >= 64, got {input_size_px}")
        other = copy.copy(self)
        other.input_size_px = input_size_px
        other._lock = threading.Lock()
        other._net_obj = None
        return other

    def warm_up(self) -> None:
        """Verify and load the model now."""
        with self._lock:
            self._net((self.input_size_px, self.input_size_px))

    def _net(self, wh: tuple[int, int]) -> Any:
        net = self._net_obj
        if net is None:
            path = self._registry.verified_path(self.model_id)
            try:
                net = cv2.FaceDetectorYN.create(
                    str(path), "", wh, self.score_threshold, self.nms_iou, max(self.max_faces * 10, 500)
                )
            except cv2.error as exc:
                raise ModelError(f"cannot load {path.name} with OpenCV: {exc}") from exc
            self._net_obj = net
        net.setInputSize(wh)
        return net

    def detect(self, image: npt.NDArray[np.uint8], *, score_threshold: float | None = None) -> FaceDetections:
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise InputError("detector input must be a BGR uint8 (H, W, 3) image")
        h, w = image.shape[:2]
        if h < 1 or w < 1:
            raise InputError(f"detector input is empty ({w}x{h} px)")
        thresh = self.score_threshold if score_threshold is None else score_threshold
        scale = min(self.input_size_px / max(h, w), self.max_upscale)
        new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
        if (new_w, new_h) != (w, h):
            interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
            resized = cv2.resize(image, (new_w, new_h), interpolation=interp)
        else:
            resized = np.ascontiguousarray(image)
        with self._lock:
            net = self._net((new_w, new_h))
            net.setScoreThreshold(float(thresh))
            try:
                _, raw = net.detect(resized)
            finally:
                net.setScoreThreshold(float(self.score_threshold))
        if raw is None or len(raw) == 0:
            return FaceDetections.empty()
        out = np.asarray(raw, np.float32)
        out = out[np.argsort(-out[:, 14], kind="stable")][: self.max_faces]
        sx, sy = w / new_w, h / new_h
        xyxy = np.stack([out[:, 0], out[:, 1], out[:, 0] + out[:, 2], out[:, 1] + out[:, 3]], axis=1)
        xyxy *= np.array([sx, sy, sx, sy], np.float32)
        xyxy[:, [0, 2]] = np.clip(xyxy[:, [0, 2]], 0, w)
        xyxy[:, [1, 3]] = np.clip(xyxy[:, [1, 3]], 0, h)
        # YuNet's order: right eye, left eye (of the person: image left first), nose, mouth
        # corners image-left first: the same order as ArcFace's template.
        lms = out[:, 4:14].reshape(-1, 5, 2) * np.array([sx, sy], np.float32)
        return FaceDetections(xyxy=xyxy, scores=np.clip(out[:, 14], 0.0, 1.0), landmarks5=lms)
