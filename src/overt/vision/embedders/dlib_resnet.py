"""dlib ResNet-29 face embedder (128-d), with dlib's own 5-point face-chip alignment.

Public-domain weights from ``face-recognition-models`` (optional extra ``overt[dlib]``).
dlib compares raw descriptors by euclidean distance (< 0.6 = same). Raw descriptors are NOT
unit norm (about 1.4), so dlib's 0.6 is about 0.43 between the L2-normalised templates, i.e.
cosine ~ 1 - 0.43^2 / 2 ~ 0.91. The default threshold (0.925 cosine) was calibrated on dev
data (johns + deepface pairs: best pooled accuracy, FAR 0.1 %); see BENCHMARKS.md.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from overt.domain.templates import Template
from overt.errors import ConfigError, InputError, ModelError
from overt.vision._dlib import import_dlib, load_dlib_model
from overt.vision.models import ModelRegistry

CHIP_PADDING = 0.25
SHAPE_MODEL_ID = "dlib_shape_5"


class DlibResnetEmbedder:
    """dlib's face recognition ResNet. ``jitters`` > 0 averages randomly jittered passes."""

    def __init__(
        self, registry: ModelRegistry | None = None, *, jitters: int = 0, model_id: str = "dlib_resnet_v1"
    ) -> None:
        dlib = import_dlib()
        if not 0 <= jitters <= 10:
            raise ConfigError(f"jitters must lie in 0..10, got {jitters}")
        self._registry = registry or ModelRegistry()
        spec = self._registry.get(model_id)
        if spec.kind != "embedder" or spec.format != "dlib" or spec.embedding_size is None:
            raise ConfigError(f"model {model_id} is not a dlib embedder")
        self.model_id = model_id
        self.embedding_size = spec.embedding_size
        self.crop_size_px = spec.input_size_px
        self.jitters = jitters
        self._dlib = dlib
        self._shape: Any = load_dlib_model(self._registry, SHAPE_MODEL_ID, "shape_predictor")
        self._net: Any = load_dlib_model(self._registry, model_id, "face_recognition_model_v1")
        self._lock = threading.Lock()

    def align(
        self,
        image: npt.NDArray[np.uint8],
        xyxy: npt.NDArray[np.float32],
        landmarks5: npt.NDArray[np.float32],
    ) -> npt.NDArray[np.uint8]:
        """dlib's face chip (BGR, ``crop_size_px`` square) from its 5-point model run on the box."""
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise InputError("embedder input must be a BGR uint8 (H, W, 3) image")
        x1, y1, x2, y2 = (round(float(v)) for v in xyxy)
        rect = self._dlib.rectangle(x1, y1, max(x1, x2 - 1), max(y1, y2 - 1))
        rgb = np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        with self._lock:
            shape = self._shape(rgb, rect)
            chip = self._dlib.get_face_chip(rgb, shape, size=self.crop_size_px, padding=CHIP_PADDING)
        return np.ascontiguousarray(np.asarray(chip, np.uint8)[:, :, ::-1])

    def embed(self, crops: Sequence[npt.NDArray[np.uint8]]) -> list[Template]:
        if not crops:
            return []
        size = self.crop_size_px
        rgbs = []
        for c in crops:
            if not isinstance(c, np.ndarray) or c.dtype != np.uint8 or c.shape != (size, size, 3):
                raise InputError(f"embedder input must be aligned BGR uint8 crops of {size}x{size}")
            rgbs.append(np.ascontiguousarray(c[:, :, ::-1]))
        with self._lock:
            descs = self._net.compute_face_descriptor(rgbs, self.jitters)
        out = np.array([np.asarray(d, np.float32) for d in descs], np.float32)
        if out.ndim != 2 or out.shape != (len(crops), self.embedding_size):
            raise ModelError(f"model {self.model_id} returned shape {out.shape}, expected (N, {self.embedding_size})")
        out = out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return [Template(vector=v, model_id=self.model_id) for v in out]
