"""Is an int8 ArcFace worth offering? Speed and dev-data accuracy of a statically quantised model.

``python bench/int8.py``: quantises w600k_mbf (after the exact PRelu rewrite, opset 13, QDQ,
per-channel int8 weights, uint8 activations) in a temporary folder, calibrated on the faces of
the images that ship with the packages (never on the dev data it is then measured on); times
fp32 and int8 (1-thread sessions, CPU ms per face, batch 8); verifies both on the dev-data pair
lists. Writes bench/results/int8.json. Nothing is kept: the temporary folder is removed.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from overt.config import build_engine
from overt.errors import ImageError
from overt.evaluation.pairs import read_csv_pairs, run_pairs
from overt.samples import sample_image
from overt.vision.align import align_face
from overt.vision.embedders.arcface import ArcFaceEmbedder
from overt.vision.engine import FaceEngine, choose_face
from overt.vision.imageio import read_image
from overt.vision.models import ModelRegistry
from overt.vision.onnx_rewrite import rewrite_prelu

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import SETS, dev_data


def _session(path: Path) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.intra_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def _embed(sess: ort.InferenceSession, blob: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    v = np.asarray(sess.run(None, {sess.get_inputs()[0].name: blob})[0], np.float32)[0]
    return np.asarray(v / np.linalg.norm(v), np.float32)


def quantise(folder: Path, engine: FaceEngine, emb: ArcFaceEmbedder) -> tuple[Path, Path]:
    import onnx
    import onnx.version_converter
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quant_pre_process,
        quantize_static,
    )

    crops = []
    for name in ("players", "gdp", "yaoming"):
        img = read_image(sample_image(name))
        crops += [align_face(img, lm) for lm in engine.detect(img).landmarks5]
    blob = emb._blob(crops)

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self._it = iter([{"input.1": blob[i : i + 1]} for i in range(len(blob))])

        def get_next(self) -> dict[str, npt.NDArray[np.float32]] | None:
            return next(self._it, None)

    src = ModelRegistry().verified_path("arcface_w600k_mbf")
    rewritten = rewrite_prelu(src)
    assert rewritten is not None
    model = onnx.version_converter.convert_version(onnx.load_from_string(rewritten), 13)
    fp32, pre, int8 = folder / "fp32.onnx", folder / "pre.onnx", folder / "int8.onnx"
    onnx.save(model, str(fp32))
    quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)
    quantize_static(
        str(pre),
        str(int8),
        Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
    )
    return fp32, int8


def main() -> int:
    engine = build_engine()
    emb = engine.embedder
    assert isinstance(emb, ArcFaceEmbedder)
    out: dict[str, Any] = {"calibration": "faces of players.jpg, gdp.jpg, yaoming.jpg (shipped samples)"}
    with tempfile.TemporaryDirectory() as tmp:
        fp32_path, int8_path = quantise(Path(tmp), engine, emb)
        sessions = {"fp32": _session(fp32_path), "int8": _session(int8_path)}
        x = np.random.default_rng(0).uniform(-1, 1, (8, 3, 112, 112)).astype(np.float32)
        cpu: dict[str, list[float]] = {k: [] for k in sessions}
        for _ in range(12):
            for k, s in sessions.items():
                t0 = time.thread_time()
                s.run(None, {"input.1": x})
                cpu[k].append((time.thread_time() - t0) * 1000 / 8)
        out["cpu_ms_per_face_batch8_1thread"] = {k: round(statistics.median(v[2:]), 2) for k, v in cpu.items()}
        root = dev_data()
        out["sets"] = {}
        for rel in SETS if root is not None else ():
            assert root is not None
            pairs = read_csv_pairs(root / rel)
            vecs: dict[str, dict[Path, npt.NDArray[np.float32] | None]] = {k: {} for k in sessions}
            cosines = []
            for p in sorted({q.path_a for q in pairs} | {q.path_b for q in pairs}):
                try:
                    img = engine.read(p)
                except ImageError:
                    img = None
                dets = engine.detect(img, expect_face=True) if img is not None else None
                if img is None or dets is None or not len(dets):
                    for k in sessions:
                        vecs[k][p] = None
                    continue
                i = choose_face(dets, img.shape[1], img.shape[0], "centre") if len(dets) > 1 else 0
                blob = emb._blob([align_face(img, dets.landmarks5[i])])
                for k, s in sessions.items():
                    vecs[k][p] = _embed(s, blob)
                a, b = vecs["fp32"][p], vecs["int8"][p]
                assert a is not None
                assert b is not None
                cosines.append(float(a @ b))
            row: dict[str, Any] = {"template_cosine_fp32_int8_min": round(min(cosines), 4)}
            for k in sessions:
                res, _ = run_pairs(pairs, vecs[k].__getitem__)
                j = res.to_json()
                row[k] = {m: j[m] for m in ("accuracy", "accuracy_std", "tar_at_far", "threshold", "thresholds_at_far")}
            out["sets"][rel] = row
    path = Path(__file__).resolve().parent / "results" / "int8.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
