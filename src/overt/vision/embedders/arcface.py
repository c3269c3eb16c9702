"""ArcFace ONNX embedder (default: InsightFace MobileFaceNet trained on WebFace600K)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import cv2
import numpy as np
import numpy.typing as npt

from overt.domain.templates import Template
from overt.errors import ConfigError, InputError, ModelError
from overt.vision.align import align_face
from overt.vision.models import ModelRegistry

if TYPE_CHECKING:
    import onnxruntime


class ArcFaceEmbedder:
    """Batched ArcFace inference; 5-point similarity alignment to 112x112."""

    def __init__(
        self,
        registry: ModelRegistry | None = None,
        *,
        model_id: str = "arcface_w600k_mbf",
        threads: int = 0,
        max_batch: int = 32,
    ) -> None:
        self._registry = registry or ModelRegistry()
        spec = self._registry.get(model_id)
        if spec.kind != "embedder" or spec.format != "onnx" or spec.embedding_size is None:
            raise ConfigError(f"model {model_id} is not an ONNX embedder")
        if max_batch < 1:
            raise ConfigError("max_batch must be >= 1")
        self.model_id = model_id
        self.embedding_size = spec.embedding_size
        self.crop_size_px = spec.input_size_px
        self._mean = spec.mean
        self._std = spec.std
        self._rgb = spec.colour_order == "RGB"
        self._threads = threads
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._sess: onnxruntime.InferenceSession | None = None
        self._fixed_batch: bool | None = None

    def _session(self) -> onnxruntime.InferenceSession:
        if self._sess is None:
            with self._lock:
                if self._sess is None:
                    self._sess = self._registry.onnx_session(self.model_id, threads=self._threads)
        return self._sess

    def warm_up(self) -> None:
        self._session()

    def align(
        self,
        image: npt.NDArray[np.uint8],
        xyxy: npt.NDArray[np.float32],
        landmarks5: npt.NDArray[np.float32],
    ) -> npt.NDArray[np.uint8]:
        return align_face(image, landmarks5, self.crop_size_px)

    def _blob(self, crops: Sequence[npt.NDArray[np.uint8]]) -> npt.NDArray[np.float32]:
        size = self.crop_size_px
        for c in crops:
            if not isinstance(c, np.ndarray) or c.dtype != np.uint8 or c.shape != (size, size, 3):
                raise InputError(f"embedder input must be aligned BGR uint8 crops of {size}x{size}")
        # One pass: channel swap, mean, scale and HWC to NCHW (numpy took five).
        blob = cv2.dnn.blobFromImages(
            list(crops), 1.0 / self._std, (size, size), (self._mean, self._mean, self._mean), swapRB=self._rgb
        )
        return np.asarray(blob, np.float32)

    def _run(self, blob: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        sess = self._session()
        name = sess.get_inputs()[0].name
        if self._fixed_batch is not True:
            try:
                out = np.asarray(sess.run(None, {name: blob})[0], np.float32)
                if out.shape[0] == blob.shape[0]:
                    self._fixed_batch = False
                    return out
            except Exception:  # a model exported with batch size 1
                if self._fixed_batch is False:
                    raise
            self._fixed_batch = True
        return np.concatenate(
            [np.asarray(sess.run(None, {name: blob[i : i + 1]})[0], np.float32) for i in range(len(blob))]
        )

    def embed(self, crops: Sequence[npt.NDArray[np.uint8]]) -> list[Template]:
        return self.embed_with_norms(crops)[0]

    def embed_with_norms(
        self, crops: Sequence[npt.NDArray[np.uint8]]
    ) -> tuple[list[Template], npt.NDArray[np.float32]]:
        """Templates and the L2 norm of each raw feature before normalisation.

        The raw norm tracks how recognisable the input is as a face (cf. MagFace): for w600k_mbf,
        real faces of 40 px and more measure about 20-29, cartoon and animal faces 8-20, blurred or
        heavily compressed real faces 14-20 (BENCHMARKS.md, recognisability gate).
        """
        if not crops:
            return [], np.zeros(0, np.float32)
        feats: list[npt.NDArray[np.float32]] = []
        for start in range(0, len(crops), self._max_batch):
            feats.append(self._run(self._blob(crops[start : start + self._max_batch])))
        out = np.concatenate(feats)
        if out.ndim != 2 or out.shape[1] != self.embedding_size:
            raise ModelError(f"model {self.model_id} returned shape {out.shape}, expected (N, {self.embedding_size})")
        norms = np.linalg.norm(out, axis=1).astype(np.float32)
        out = out / np.maximum(norms, 1e-12)[:, None]
        return [Template(vector=v, model_id=self.model_id) for v in out], norms
