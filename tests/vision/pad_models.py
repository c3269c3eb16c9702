"""Tiny ONNX PAD models the tests build themselves (onnx helper API): no model is downloaded.

``brightness_pad``: input (1, 3, S, S) -> GlobalAveragePool -> Flatten -> Gemm -> 2 logits
[attack, live]; live logit = ``gain`` x (mean of the normalised input - ``pivot``), so bright
faces read as live and dark ones as attacks. ``constant_pad``: the same graph with zero
weights, a fixed P(live).
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Literal

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from overt.config import PadConfig


def _model(size_px: int, weights: np.ndarray, bias: np.ndarray) -> onnx.ModelProto:
    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, size_px, size_px])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 2])
    nodes = [
        helper.make_node("GlobalAveragePool", ["image"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "W", "B"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "pad",
        [x],
        [y],
        initializer=[
            numpy_helper.from_array(weights.astype(np.float32), "W"),
            numpy_helper.from_array(bias.astype(np.float32), "B"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def save(model: onnx.ModelProto, path: Path) -> tuple[Path, str]:
    data = model.SerializeToString()
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def brightness_pad(path: Path, *, size_px: int = 32, gain: float = 20.0, pivot: float = 0.5) -> PadConfig:
    w = np.zeros((3, 2), np.float32)
    w[:, 1] = gain / 3.0
    b = np.array([0.0, -gain * pivot], np.float32)
    p, digest = save(_model(size_px, w, b), path)
    return PadConfig(type="onnx", model_path=str(p), sha256=digest, input_size_px=size_px, live_index=1)


def constant_pad(
    path: Path, live_probability: float, *, size_px: int = 16, policy: Literal["flag", "suppress"] = "flag"
) -> PadConfig:
    logit = math.log(live_probability / (1 - live_probability))
    p, digest = save(_model(size_px, np.zeros((3, 2), np.float32), np.array([0.0, logit], np.float32)), path)
    return PadConfig(type="onnx", model_path=str(p), sha256=digest, input_size_px=size_px, live_index=1, policy=policy)
