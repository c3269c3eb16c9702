"""Presentation-attack detection (PAD): is the face in front of the camera a live person, or a
print, a screen replay or a mask?

A :class:`PresentationAttackDetector` scores a face in a frame with P(live) in [0, 1]; the
pipeline runs it on every alert candidate before the alert is raised (``PipelineConfig.pad``,
built by ``overt.config.build_pad``: the verdict goes on the alert, and the policy either flags
or suppresses an attack).

Overt ships no PAD model: no package on the index ships a usable one (README, "Presentation
attacks"). :class:`OnnxPad` runs a model you supply, declared like the embedders: file, SHA-256,
input size, colour order, normalisation and which output is "live".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import cv2
import numpy as np
import numpy.typing as npt

from overt.domain.alerts import PadResult
from overt.errors import ConfigError, ModelError


@runtime_checkable
class PresentationAttackDetector(Protocol):
    """Scores one face (box ``xyxy`` in a BGR frame): P(live) in [0, 1]."""

    name: str

    def live_score(self, image: npt.NDArray[np.uint8], xyxy: npt.NDArray[np.float32]) -> float: ...


def face_crop(
    image: npt.NDArray[np.uint8], xyxy: npt.NDArray[np.float32], scale: float, size_px: int
) -> npt.NDArray[np.uint8]:
    """A square crop centred on the box, side = longer box side x ``scale``, padded with black
    where it leaves the frame, resized to ``size_px``."""
    x1, y1, x2, y2 = (float(v) for v in xyxy)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    side = max(x2 - x1, y2 - y1, 1.0) * scale
    a, b = round(cx - side / 2), round(cy - side / 2)
    n = max(1, round(side))
    h, w = image.shape[:2]
    out = np.zeros((n, n, 3), np.uint8)
    sx0, sy0, sx1, sy1 = max(a, 0), max(b, 0), min(a + n, w), min(b + n, h)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - b : sy1 - b, sx0 - a : sx1 - a] = image[sy0:sy1, sx0:sx1]
    return np.asarray(cv2.resize(out, (size_px, size_px), interpolation=cv2.INTER_AREA), np.uint8)


@dataclass(frozen=True, slots=True)
class OnnxPadSpec:
    """How to run a user-supplied ONNX PAD model (``PipelineConfig.pad`` declares it)."""

    model_path: str
    sha256: str
    input_size_px: int = 80
    crop_scale: float = 1.0
    channel_order: Literal["rgb", "bgr"] = "rgb"
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (255.0, 255.0, 255.0)
    live_index: int = 0
    output_is_logits: bool = True


class OnnxPad:
    """A user-supplied ONNX PAD model: one image input (1, 3, S, S), one output of class scores."""

    def __init__(self, config: OnnxPadSpec) -> None:
        if not config.model_path or not config.sha256:
            raise ConfigError("pad.type = onnx needs pad.model_path and pad.sha256")
        path = Path(config.model_path).expanduser()
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            raise ModelError(f"PAD model {path}: {exc.strerror or exc}") from None
        if digest != config.sha256.lower():
            raise ModelError(
                f"PAD model {path}: sha256 mismatch (expected {config.sha256[:12]}..., got {digest[:12]}...)"
            )
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types
            raise ModelError(f"PAD model {path} cannot be loaded: {type(exc).__name__}") from None
        self._input = self._session.get_inputs()[0].name
        self.config = config
        self.name = f"onnx:{digest[:12]}"

    def preprocess(self, image: npt.NDArray[np.uint8], xyxy: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        cfg = self.config
        crop = face_crop(image, xyxy, cfg.crop_scale, cfg.input_size_px)
        if cfg.channel_order == "rgb":
            crop = np.asarray(crop[:, :, ::-1])
        x = (crop.astype(np.float32) - np.asarray(cfg.mean, np.float32)) / np.asarray(cfg.std, np.float32)
        return np.ascontiguousarray(x.transpose(2, 0, 1)[None])

    def live_score(self, image: npt.NDArray[np.uint8], xyxy: npt.NDArray[np.float32]) -> float:
        out = np.asarray(self._session.run(None, {self._input: self.preprocess(image, xyxy)})[0], np.float64).reshape(
            -1
        )
        if self.config.live_index >= out.size:
            raise ModelError(f"PAD model has {out.size} outputs; live_index {self.config.live_index} is out of range")
        if self.config.output_is_logits:
            e = np.exp(out - out.max())
            out = e / e.sum()
        return float(np.clip(out[self.config.live_index], 0.0, 1.0))


def judge(
    pad: PresentationAttackDetector, image: npt.NDArray[np.uint8], xyxy: npt.NDArray[np.float32], threshold: float
) -> PadResult:
    score = pad.live_score(image, xyxy)
    return PadResult(backend=pad.name, score=score, live=score >= threshold)
