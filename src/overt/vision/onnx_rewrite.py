"""Exact, in-memory graph rewrites that let ONNX Runtime's CPU kernels run a model faster.

``PRelu`` after a convolution breaks ONNX Runtime's blocked-channel (NCHWc) convolution chain on
x86: every PRelu costs a reorder out of NCHWc, a slow broadcast kernel, and a reorder back. In
MobileFaceNet (ArcFace ``w600k_mbf``) that is about half of the inference time. The same
function written with operators the NCHWc optimiser fuses into its convolutions,

    PRelu(y, a) = y + (1 - a) * Relu(-y)

(``-y`` and ``(1 - a) *`` as per-channel ``BatchNormalization`` with mean 0, variance 1 and
epsilon 0, which ONNX Runtime turns into depthwise 1x1 NCHWc convolutions with the ``Relu`` and
the ``Add`` fused in), keeps the whole network in NCHWc. For ``y >= 0`` the result is ``y``
exactly; for ``y < 0`` it is ``a * y`` up to one rounding (relative error ~1e-7).

The rewritten model exists only in memory: nothing is written to disk. The file itself is
verified (sha256) before it is read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def rewrite_prelu(model_path: Path) -> bytes | None:
    """The model with every eligible ``PRelu`` rewritten (and a fixed batch of 1 freed where the graph
    allows it, see :func:`_free_batch`), serialised; ``None`` if nothing changed.

    Eligible: the slope is a constant of shape (C, 1, 1) or (1, C, 1, 1) and the input comes
    from a ``Conv``. Returns ``None`` when the ``onnx`` package is missing or the graph has nothing to rewrite.
    """
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError:
        return None

    model = onnx.load(str(model_path))
    graph = model.graph
    changed = _initializers_out_of_inputs(graph)
    inits = {t.name: t for t in graph.initializer}
    producers = {out: node for node in graph.node for out in node.output}
    new_nodes = []
    new_inits = []
    for node in graph.node:
        if node.op_type != "PRelu" or len(node.input) != 2 or node.input[1] not in inits:
            new_nodes.append(node)
            continue
        y, slope_name = node.input
        out = node.output[0]
        slope = numpy_helper.to_array(inits[slope_name])
        prod = producers.get(y)
        shape_ok = slope.ndim in (3, 4) and all(d == 1 for d in slope.shape[-2:]) and slope.size == slope.shape[-3]
        if not shape_ok or prod is None or not _after_conv(prod, producers):
            new_nodes.append(node)
            continue
        a = slope.reshape(-1).astype(np.float32)
        channels = a.size
        base = f"{out}__prelu"

        def const(suffix: str, values: np.ndarray, base: str = base) -> str:
            name = base + suffix
            new_inits.append(numpy_helper.from_array(np.ascontiguousarray(values, np.float32), name))
            return name

        zeros = const("_zeros", np.zeros(channels))
        ones = const("_ones", np.ones(channels))
        minus_one = const("_minus_one", -np.ones(channels))
        one_minus_a = const("_one_minus_a", 1.0 - a)
        new_nodes.extend(
            [
                helper.make_node(
                    "BatchNormalization", [y, minus_one, zeros, zeros, ones], [base + "_neg"], epsilon=0.0
                ),
                helper.make_node("Relu", [base + "_neg"], [base + "_relu_neg"]),
                helper.make_node(
                    "BatchNormalization",
                    [base + "_relu_neg", one_minus_a, zeros, zeros, ones],
                    [base + "_scaled"],
                    epsilon=0.0,
                ),
                helper.make_node("Add", [y, base + "_scaled"], [out]),
            ]
        )
        changed += 1
    if changed:
        del graph.node[:]
        graph.node.extend(new_nodes)
        graph.initializer.extend(new_inits)
    if _free_batch(graph):
        changed += 1
    if not changed:
        return None
    return bytes(model.SerializeToString())


def _after_conv(node: object, producers: dict[str, object]) -> bool:
    """A ``Conv``, or a ``BatchNormalization`` of a ``Conv`` (ONNX Runtime folds it into the Conv)."""
    if node.op_type == "Conv":  # type: ignore[attr-defined]
        return True
    if node.op_type != "BatchNormalization":  # type: ignore[attr-defined]
        return False
    prev = producers.get(node.input[0])  # type: ignore[attr-defined]
    return prev is not None and prev.op_type == "Conv"  # type: ignore[attr-defined]


def _initializers_out_of_inputs(graph: object) -> int:
    """Drop weights that old exporters (MXNet: SFace) also list as graph inputs.

    Listed as inputs, they could be overridden at run time, so ONNX Runtime neither folds
    constants nor fuses BatchNormalization into the convolutions. Nothing feeds them.
    """
    inits = {t.name for t in graph.initializer}  # type: ignore[attr-defined]
    keep = [i for i in graph.input if i.name not in inits]  # type: ignore[attr-defined]
    dropped = len(graph.input) - len(keep)  # type: ignore[attr-defined]
    if dropped:
        del graph.input[:]  # type: ignore[attr-defined]
        graph.input.extend(keep)  # type: ignore[attr-defined]
    return dropped


def _free_batch(graph: object) -> bool:
    """Make a batch dimension fixed at 1 free (``N``) when nothing in the graph depends on it.

    SFace is exported with batch 1; its layers (Conv, BatchNorm, PRelu, Flatten, Gemm) work on
    any batch, so the only change is the declared shape of the one data input and the outputs.
    Graphs with shape-handling operators are left alone.
    """
    shape_ops = {"Reshape", "Shape", "Expand", "Tile", "ConstantOfShape", "Slice", "Split", "Concat", "Squeeze"}
    nodes = list(graph.node)  # type: ignore[attr-defined]
    if any(n.op_type in shape_ops for n in nodes):
        return False
    inits = {t.name for t in graph.initializer}  # type: ignore[attr-defined]
    data_inputs = [i for i in graph.input if i.name not in inits]  # type: ignore[attr-defined]
    if len(data_inputs) != 1:
        return False
    tensors = [data_inputs[0], *graph.output]  # type: ignore[attr-defined]
    dims = [t.type.tensor_type.shape.dim for t in tensors]
    if not all(len(d) >= 2 and d[0].HasField("dim_value") and d[0].dim_value == 1 for d in dims):
        return False
    for d in dims:
        d[0].dim_param = "N"
    return True
