"""Per-stage speed of the recognition engine against a straightforward baseline, in the same run.

Baseline ("insightface-style"): what one writes first with the InsightFace reference code in
mind: ONNX Runtime sessions with default ``SessionOptions``; SCRFD letterbox by ``cv2.resize``
into a zero canvas then ``cv2.dnn.blobFromImage``, anchors decoded per stride, greedy numpy NMS;
alignment by scikit-image's ``SimilarityTransform`` and ``cv2.warpAffine``; ArcFace inference
one face per ``session.run`` (as ``FaceAnalysis.get`` does). Engine: Overt's ``ScrfdDetector``,
``align_face``, ``ArcFaceEmbedder`` and ``FaceEngine.faces`` as shipped.

Baseline and engine are timed alternately, round by round, so that load from other processes
falls on both alike; each figure is the median (and p95) over the rounds, after warm-up runs.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from overt.config import build_engine
from overt.samples import sample_image
from overt.vision.align import ARCFACE_TEMPLATE_112, align_face
from overt.vision.detectors.scrfd import ScrfdDetector, nms
from overt.vision.embedders.arcface import ArcFaceEmbedder
from overt.vision.engine import FaceEngine
from overt.vision.imageio import read_image
from overt.vision.models import ModelRegistry

FRAME_W, FRAME_H = 1280, 720
DET_SIZE = 640


def make_frame() -> npt.NDArray[np.uint8]:
    """players.jpg (23 faces) scaled to fit 1280x720 and centred on black: a 720p frame."""
    img = read_image(sample_image("players"))
    h, w = img.shape[:2]
    s = min(FRAME_W / w, FRAME_H / h)
    nw, nh = round(w * s), round(h * s)
    frame = np.zeros((FRAME_H, FRAME_W, 3), np.uint8)
    y0, x0 = (FRAME_H - nh) // 2, (FRAME_W - nw) // 2
    frame[y0 : y0 + nh, x0 : x0 + nw] = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
    return frame


# -- baseline: the straightforward implementation ----------------------------------------------


def _default_session(path: Path, threads: int) -> ort.InferenceSession:
    """Default SessionOptions; only the thread count set when ``threads`` > 0."""
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if threads > 0:
        opts.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


class BaselineScrfd:
    """InsightFace ``SCRFD.detect`` re-told: default session, blobFromImage, per-stride decode."""

    def __init__(
        self, path: Path, size: int = DET_SIZE, threshold: float = 0.5, nms_iou: float = 0.4, threads: int = 0
    ) -> None:
        self.sess = _default_session(path, threads)
        self.input_name = self.sess.get_inputs()[0].name
        self.size = size
        self.threshold = threshold
        self.nms_iou = nms_iou
        self._centres: dict[tuple[int, int], npt.NDArray[np.float32]] = {}

    def letterbox(self, img: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.float32], float]:
        im_ratio = img.shape[0] / img.shape[1]
        if im_ratio > 1.0:
            new_h = self.size
            new_w = int(new_h / im_ratio)
        else:
            new_w = self.size
            new_h = int(new_w * im_ratio)
        scale = new_h / img.shape[0]
        canvas = np.zeros((self.size, self.size, 3), np.uint8)
        canvas[:new_h, :new_w] = cv2.resize(img, (new_w, new_h))
        blob = cv2.dnn.blobFromImage(canvas, 1.0 / 128.0, (self.size, self.size), (127.5, 127.5, 127.5), swapRB=True)
        return np.asarray(blob, np.float32), scale

    def detect(self, img: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        blob, scale = self.letterbox(img)
        outs = self.sess.run(None, {self.input_name: blob})
        scores_l, boxes_l, kps_l = [], [], []
        for idx, stride in enumerate((8, 16, 32)):
            scores = np.asarray(outs[idx])[0].reshape(-1)
            bbox = np.asarray(outs[idx + 3])[0].reshape(-1, 4) * stride
            kps = np.asarray(outs[idx + 6])[0].reshape(-1, 10) * stride
            side = self.size // stride
            key = (side, stride)
            if key not in self._centres:
                ys, xs = np.mgrid[:side, :side]
                c = np.stack([xs, ys], axis=-1).astype(np.float32)
                c = (c * stride).reshape(-1, 2)
                self._centres[key] = np.stack([c] * 2, axis=1).reshape(-1, 2)
            centres = self._centres[key]
            pos = np.where(scores >= self.threshold)[0]
            c = centres[pos]
            b = bbox[pos]
            boxes_l.append(np.stack([c[:, 0] - b[:, 0], c[:, 1] - b[:, 1], c[:, 0] + b[:, 2], c[:, 1] + b[:, 3]], 1))
            kps_l.append(kps[pos].reshape(-1, 5, 2) + c[:, None, :])
            scores_l.append(scores[pos])
        scores_a = np.concatenate(scores_l).astype(np.float32)
        boxes_a = (np.concatenate(boxes_l) / scale).astype(np.float32)
        kps_a = (np.concatenate(kps_l) / scale).astype(np.float32)
        keep = nms(boxes_a, scores_a, self.nms_iou)
        return boxes_a[keep], kps_a[keep]


def baseline_align(img: npt.NDArray[np.uint8], lms: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """InsightFace ``face_align.norm_crop``: scikit-image similarity + warpAffine."""
    from skimage.transform import SimilarityTransform

    tform = SimilarityTransform.from_estimate(np.asarray(lms, np.float64), ARCFACE_TEMPLATE_112)
    return np.asarray(cv2.warpAffine(img, tform.params[:2], (112, 112), borderValue=0.0), np.uint8)


class BaselineArcFace:
    """InsightFace ``ArcFaceONNX.get_feat`` called once per face, default session."""

    def __init__(self, path: Path, threads: int = 0) -> None:
        self.sess = _default_session(path, threads)
        self.input_name = self.sess.get_inputs()[0].name

    def embed_one(self, crop: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        blob = cv2.dnn.blobFromImages([crop], 1.0 / 127.5, (112, 112), (127.5, 127.5, 127.5), swapRB=True)
        v = np.asarray(self.sess.run(None, {self.input_name: blob})[0], np.float32)[0]
        return np.asarray(v / np.linalg.norm(v), np.float32)

    def embed(self, crops: list[npt.NDArray[np.uint8]]) -> list[npt.NDArray[np.float32]]:
        return [self.embed_one(c) for c in crops]


# -- timing ------------------------------------------------------------------------------------


@dataclass
class Timing:
    stage: str
    unit: str
    clock: str = "wall"
    baseline_ms: list[float] = field(default_factory=list)
    engine_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        b, e = self.baseline_ms, self.engine_ms
        med_b, med_e = statistics.median(b), statistics.median(e)
        return {
            "stage": self.stage,
            "unit": self.unit,
            "clock": self.clock,
            "rounds": len(e),
            "baseline_median_ms": round(med_b, 3),
            "baseline_p95_ms": round(p95(b), 3),
            "baseline_min_ms": round(min(b), 3),
            "engine_median_ms": round(med_e, 3),
            "engine_p95_ms": round(p95(e), 3),
            "engine_min_ms": round(min(e), 3),
            "speedup": round(med_b / med_e, 3) if med_e > 0 else None,
        }


def p95(xs: list[float]) -> float:
    return float(np.percentile(np.asarray(xs), 95))


def race(
    timing: Timing,
    baseline: Callable[[], object],
    engine: Callable[[], object],
    *,
    rounds: int,
    warmup: int = 3,
    per: int = 1,
) -> Timing:
    """Alternate baseline and engine; record milliseconds per ``per`` items for each round.

    ``timing.clock`` "wall": ``time.perf_counter``. "cpu": ``time.thread_time``, the CPU time of
    the calling thread alone, for 1-thread sessions (a measure of work that load from other
    processes barely moves, and on an idle machine the wall time of one core).
    """
    clock = time.thread_time if timing.clock == "cpu" else time.perf_counter
    for _ in range(warmup):
        baseline()
        engine()
    for r in range(rounds):
        order = (baseline, engine) if r % 2 == 0 else (engine, baseline)
        for fn in order:
            t0 = clock()
            fn()
            dt = (clock() - t0) * 1000.0 / per
            (timing.baseline_ms if fn is baseline else timing.engine_ms).append(dt)
    return timing


def peak_rss_mb() -> float:
    """Peak resident set size of this process, ``resource.getrusage`` (Linux reports KiB).

    Linux carries ``ru_maxrss`` over ``execve``: a child started by a big parent reports at
    least the parent's peak, so memory probes run before the parent loads anything large.
    """
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def vm_hwm_mb() -> float | None:
    """The kernel's high-water mark of this process image (``VmHWM``; reset by ``execve``)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def environment(engine: FaceEngine) -> dict[str, Any]:
    det = engine.detector
    threads: object = "n/a"
    if isinstance(det, ScrfdDetector):
        opts = det._session().get_session_options()
        threads = opts.intra_op_num_threads or "0 (ORT default: one per physical core)"
    load = os.getloadavg()
    return {
        "python": platform.python_version(),
        "onnxruntime": ort.__version__,
        "opencv": cv2.__version__,
        "numpy": np.__version__,
        "cpu": platform.processor() or platform.machine(),
        "cpus_visible": len(os.sched_getaffinity(0)),
        "engine_intra_op_threads": threads,
        "cv2_threads": cv2.getNumThreads(),
        "load_average_1m_at_start": round(load[0], 2),
    }


def run(*, quick: bool = False) -> dict[str, Any]:
    """Time every stage; return a JSON-able dict (see BENCHMARKS.md for the meaning)."""
    scale = 0.3 if quick else 1.0

    def n(k: int) -> int:
        return max(3, round(k * scale))

    registry = ModelRegistry()
    frame = make_frame()
    engine = build_engine()
    base_det = BaselineScrfd(registry.verified_path("scrfd_500m_bnkps"))
    base_emb = BaselineArcFace(registry.verified_path("arcface_w600k_mbf"))
    det = engine.detector
    assert isinstance(det, ScrfdDetector)
    emb = engine.embedder
    assert isinstance(emb, ArcFaceEmbedder)
    det.warm_up()
    emb.warm_up()
    env = environment(engine)

    dets = det.detect(frame)
    crops = [align_face(frame, dets.landmarks5[i]) for i in range(len(dets))]
    pool32 = (crops * (32 // max(1, len(crops)) + 1))[:32]
    n_faces = len(dets)

    timings: list[Timing] = []
    timings.append(
        race(
            Timing("letterbox 1280x720 -> 640", "ms/frame"),
            lambda: base_det.letterbox(frame),
            lambda: det.letterbox(frame),
            rounds=n(60),
        )
    )
    timings.append(
        race(
            Timing("detect 1280x720 @ 640 (letterbox+infer+decode+NMS)", "ms/frame"),
            lambda: base_det.detect(frame),
            lambda: det.detect(frame),
            rounds=n(40),
        )
    )
    lms = dets.landmarks5
    timings.append(
        race(
            Timing(f"align ({n_faces} faces)", "ms/face"),
            lambda: [baseline_align(frame, lm) for lm in lms],
            lambda: [align_face(frame, lm) for lm in lms],
            rounds=n(20),
            per=n_faces,
        )
    )
    for bs, rounds in ((1, 60), (8, 20), (32, 8)):
        batch = pool32[:bs]
        timings.append(
            race(
                Timing(f"embed batch {bs}", "ms/face"),
                partial(base_emb.embed, batch),
                partial(emb.embed, batch),
                rounds=n(rounds),
                per=bs,
            )
        )

    def base_e2e() -> None:
        _, kps = base_det.detect(frame)
        base_emb.embed([baseline_align(frame, lm) for lm in kps])

    timings.append(
        race(
            Timing(f"end-to-end: all {n_faces} faces of a 720p frame", "ms/frame"),
            base_e2e,
            lambda: engine.faces(frame),
            rounds=n(12),
            warmup=2,
        )
    )

    # Work per stage: 1-thread sessions, CPU time of the calling thread (robust to machine load).
    # OpenCV is held to the calling thread too, so that no work escapes the clock.
    cv2_threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    det1 = ScrfdDetector(registry, threads=1)
    emb1 = ArcFaceEmbedder(registry, threads=1)
    engine1 = FaceEngine(det1, emb1)
    base_det1 = BaselineScrfd(registry.verified_path("scrfd_500m_bnkps"), threads=1)
    base_emb1 = BaselineArcFace(registry.verified_path("arcface_w600k_mbf"), threads=1)
    timings.append(
        race(Timing("detect 1280x720 @ 640, 1 thread", "CPU ms/frame", "cpu"), partial(base_det1.detect, frame),
             partial(det1.detect, frame), rounds=n(30))
    )  # fmt: skip
    for bs, rounds in ((1, 40), (8, 12), (32, 5)):
        batch = pool32[:bs]
        timings.append(
            race(Timing(f"embed batch {bs}, 1 thread", "CPU ms/face", "cpu"), partial(base_emb1.embed, batch),
                 partial(emb1.embed, batch), rounds=n(rounds), per=bs)
        )  # fmt: skip

    def base_e2e1() -> None:
        _, kps = base_det1.detect(frame)
        base_emb1.embed([baseline_align(frame, lm) for lm in kps])

    timings.append(
        race(Timing(f"end-to-end, {n_faces} faces, 1 thread", "CPU ms/frame", "cpu"), base_e2e1,
             partial(engine1.faces, frame), rounds=n(8), warmup=2)
    )  # fmt: skip

    cv2.setNumThreads(cv2_threads)

    # Same answers? Baseline and engine outputs on the bench frame.
    b_boxes, b_kps = base_det.detect(frame)
    b_vecs = np.stack(base_emb.embed([baseline_align(frame, lm) for lm in b_kps]))
    e_vecs = np.stack([t.vector for t in emb.embed(crops)])
    agreement: dict[str, Any] = {"faces_baseline": len(b_boxes), "faces_engine": n_faces}
    if len(b_boxes) == n_faces:
        agreement["max_box_diff_px"] = round(float(np.abs(b_boxes - dets.xyxy).max()), 3)
        agreement["min_template_cosine"] = round(float(np.min(np.sum(b_vecs * e_vecs, axis=1))), 5)

    return {
        "what": "Overt engine vs straightforward baseline, timed alternately in the same process",
        "baseline": (
            "ONNX Runtime default SessionOptions; insightface-style SCRFD (resize into zero canvas, "
            "cv2.dnn.blobFromImage, per-stride decode, numpy NMS); scikit-image similarity alignment; "
            "ArcFace one face per session.run"
        ),
        "frame": f"players.jpg scaled into {FRAME_W}x{FRAME_H} ({n_faces} faces), detector input {DET_SIZE}",
        "environment": env,
        "results": [asdict(t) | t.summary() for t in timings],
        "agreement": agreement,
        "peak_rss_mb_this_process": round(peak_rss_mb(), 1),
    }


def memory_probe(which: str) -> dict[str, float]:
    """Run one side alone (fresh process) over a frame and 32 faces; report its peak RSS."""
    before = peak_rss_mb()
    frame = make_frame()
    if which == "engine":
        engine = build_engine()
        faces = engine.faces(frame)
        crops = [align_face(frame, f.landmarks5) for f in faces]
        engine.embedder.embed((crops * 2)[:32])
    else:
        registry = ModelRegistry()
        bd = BaselineScrfd(registry.verified_path("scrfd_500m_bnkps"))
        be = BaselineArcFace(registry.verified_path("arcface_w600k_mbf"))
        _, kps = bd.detect(frame)
        be.embed([baseline_align(frame, lm) for lm in kps])
    hwm = vm_hwm_mb()
    return {
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "vm_hwm_mb": round(hwm, 1) if hwm is not None else -1.0,
        "peak_rss_mb_after_imports": round(before, 1),
    }
