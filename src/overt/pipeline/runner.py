"""Wiring and supervision of the live pipeline.

Threads: one reader per camera (source -> bounded queue; files block so every frame is
processed, live sources drop the oldest frame and count it) and one inference worker shared
by every camera. Each round the worker takes at most one frame per camera, detects and tracks
in each, gates the faces on quality, picks the few worth embedding, embeds them in one batch
across cameras, searches the gallery in one batch, and lets the decider vote per track.

Privacy by construction: frames, detections, aligned crops and templates are local variables
of one round; per-track state holds only timing, a quality score and (in the decider) the
subject and similarity of recent votes, and is dropped when the track ends. The only objects
that leave are ``Alert`` (to the sinks) and ``Counters``; the optional annotated video is
redacted: every face that is not an alert is blurred.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from overt.alerts.evidence import sign_alert
from overt.alerts.sinks import AlertSink
from overt.config import PipelineConfig, build_pad
from overt.crypto.signing import SigningKey
from overt.domain.alerts import Alert
from overt.domain.detections import FaceDetections
from overt.domain.frames import Frame
from overt.domain.quality import FaceQuality, QualityGate
from overt.domain.templates import Template
from overt.errors import ConfigError, OvertError
from overt.matching.decider import Decider, default_min_recognisability, default_min_similarity
from overt.matching.gallery import Gallery
from overt.pipeline.counters import CounterBoard, Counters
from overt.pipeline.heartbeat import CameraProgress, ProgressBoard
from overt.pipeline.redact import (
    AnnotatedVideoWriter,
    LabelledBox,
    encode_jpeg,
    inclusive_blur,
    redacted_frame,
    thumbnail_jpeg,
)
from overt.sources.base import FrameSource
from overt.sources.integrity import IntegrityMonitor, IntegrityStatus
from overt.tracking.shots import ShotCutDetector
from overt.tracking.tracker import IouTracker, TrackedFace, TrackUpdate
from overt.vision.align import align_face
from overt.vision.detectors.base import Detector, ResizableDetector
from overt.vision.embedders.base import embed_with_norms
from overt.vision.pad import PresentationAttackDetector, judge
from overt.vision.quality import measure_quality

if TYPE_CHECKING:
    from overt.vision.engine import FaceEngine

log = logging.getLogger(__name__)


_RECENT_TEMPLATES = 3
_NO_BOXES: npt.NDArray[np.float32] = np.zeros((0, 4), np.float32)
_NO_BOXES.flags.writeable = False
"""Templates of a track's latest probes that a new probe is compared with (track split)."""


@dataclass(slots=True)
class _ProbeState:
    """What the pipeline remembers about a track between frames: timing, quality, and the templates
    of its last few probes (in memory only, dropped with the track) to notice another person."""

    last_embed_pts_s: float = -math.inf
    best_score: float = -1.0
    embedded: int = 0
    norm_sum: float = 0.0
    norm_count: int = 0
    recent: deque[npt.NDArray[np.float32]] = field(default_factory=lambda: deque(maxlen=_RECENT_TEMPLATES))
    last_ok: bool = True  # the track's face passed the quality gate when last measured

    def add_norm(self, norm: float) -> None:
        if math.isfinite(norm):
            self.norm_sum += norm
            self.norm_count += 1

    def recognisable(self, min_norm: float | None) -> bool:
        """Mean raw embedding norm of the track's probes at least ``min_norm`` (True when unmeasured)."""
        if min_norm is None or self.norm_count == 0:
            return True
        return self.norm_sum / self.norm_count >= min_norm


@dataclass(slots=True)
class _Camera:
    source: FrameSource
    queue: queue.Queue[Frame]
    tracker: IouTracker
    annotator: AnnotatedVideoWriter | None
    cuts: ShotCutDetector | None = None
    monitor: IntegrityMonitor | None = None
    probes: dict[int, _ProbeState] = field(default_factory=dict)
    labels: dict[int, str] = field(default_factory=dict)
    reader: threading.Thread | None = None
    reader_done: bool = False
    finished: bool = False
    seen: int = 0
    # Adaptive detection: frames since the last detection, the current interval, and how many
    # frames were still waiting when the worker took this round's frame.
    undetected: int = 0
    detect_interval: int = 1
    backlog: int = 0
    # This round's frame goes to the annotator (every frame of an annotated video; only the frames
    # a sampling writer such as the live view keeps: its ``due()``).
    write_now: bool = False
    # Index of the first frame after the source's latest reconnect (written by the reader) and
    # the last such index the worker acted on: tracks never span an outage.
    resume_index: int = -1
    resumed_index: int = -1

    @property
    def camera_id(self) -> str:
        return self.source.camera_id


@dataclass(slots=True, eq=False)
class _Probe:
    """One face picked for embedding this round (lives for the round only)."""

    cam: _Camera
    frame: Frame
    dets: FaceDetections
    update: TrackUpdate
    face: TrackedFace
    quality: FaceQuality
    crop: npt.NDArray[np.uint8]
    state: _ProbeState
    faint: npt.NDArray[np.float32]  # boxes below the tracking threshold: blurred, never tracked


def _redaction_detector(detector: Detector, cfg: PipelineConfig) -> Detector | None:
    """The engine's detector at ``redaction_input_size_px`` for alert frames, when that is larger than its own
    (a detector with a fixed input, such as dlib HOG or a test's fake, gets the one pass only)."""
    size = cfg.redaction_input_size_px
    if cfg.redaction_min_score is None or size is None or not isinstance(detector, ResizableDetector):
        return None
    return detector.at_input_size(size) if size > detector.input_size_px else None


class Pipeline:
    """Runs sources through the engine against a gallery; alerts go to ``sinks``.

    ``annotate`` maps a camera id to a video path for a redacted, annotated copy of that camera.
    Use :meth:`run` (blocking, with an optional stop event) or :meth:`start` / :meth:`wait` /
    :meth:`stop` / :meth:`close`. The caller owns and closes the sinks.
    """

    def __init__(
        self,
        sources: Sequence[FrameSource],
        engine: FaceEngine,
        gallery: Gallery,
        sinks: Sequence[AlertSink],
        *,
        config: PipelineConfig | None = None,
        annotate: Mapping[str, str | Path] | None = None,
        annotate_fps: float = 25.0,
        signer: SigningKey | None = None,
        pad: PresentationAttackDetector | None = None,
        snapshot_id: str | None = None,
    ) -> None:
        if not sources:
            raise ConfigError("the pipeline needs at least one source")
        ids = [s.camera_id for s in sources]
        if len(set(ids)) != len(ids):
            raise ConfigError("camera ids must be unique")
        if gallery.model_id != engine.embedder.model_id:
            raise ConfigError(
                f"watch list templates are from {gallery.model_id}, the embedder is {engine.embedder.model_id}"
            )
        cfg = config or PipelineConfig()
        if cfg.track_low_score > cfg.track_high_score:
            raise ConfigError("track_low_score must not exceed track_high_score")
        if cfg.min_votes > cfg.vote_window:
            raise ConfigError("min_votes must not exceed vote_window")
        if cfg.adaptive_detection and cfg.max_detect_interval_frames > cfg.track_max_missed_frames + 1:
            if "max_detect_interval_frames" in cfg.model_fields_set:
                raise ConfigError("max_detect_interval_frames must not exceed track_max_missed_frames + 1")
            # The default cap (adaptive detection is on by default) follows a shorter track life.
            cfg = cfg.model_copy(update={"max_detect_interval_frames": cfg.track_max_missed_frames + 1})
        unknown = set(annotate or {}) - set(ids)
        if unknown:
            raise ConfigError("annotate names a camera that is not a source")
        self.config = cfg
        self.engine = engine
        self._redaction_detector = _redaction_detector(engine.detector, cfg)
        self.gallery = gallery
        self.sinks = tuple(sinks)
        pq = cfg.probe_quality
        self.gate = QualityGate(
            min_size_px=pq.min_size_px,
            min_det_score=pq.min_det_score,
            min_sharpness=pq.min_sharpness,
            max_abs_yaw_deg=pq.max_abs_yaw_deg,
            max_abs_roll_deg=pq.max_abs_roll_deg,
        )
        min_sim = cfg.min_similarity
        if min_sim is None:
            min_sim = default_min_similarity(engine.embedder.model_id, fallback=engine.min_similarity)
        self.decider = Decider(min_similarity=min_sim, min_votes=cfg.min_votes, window=cfg.vote_window)
        min_norm = pq.min_recognisability
        split = cfg.track_split_similarity
        self.split_similarity: float | None = (
            (engine.min_similarity if split is None else split) if cfg.split_tracks_on_identity_change else None
        )
        self.min_recognisability = (
            default_min_recognisability(engine.embedder.model_id) if min_norm == "model" else min_norm
        )
        self._cams = [
            _Camera(
                source=s,
                queue=queue.Queue(maxsize=cfg.queue_frames),
                tracker=IouTracker(
                    s.camera_id,
                    high_score=cfg.track_high_score,
                    low_score=cfg.track_low_score,
                    match_iou=cfg.track_match_iou,
                    max_missed_frames=cfg.track_max_missed_frames,
                ),
                annotator=AnnotatedVideoWriter(annotate[s.camera_id], annotate_fps)
                if annotate and s.camera_id in annotate
                else None,
                cuts=ShotCutDetector(
                    min_hist_distance=cfg.shot_cut_min_hist_distance,
                    min_mean_abs_diff=cfg.shot_cut_min_mean_abs_diff,
                )
                if cfg.end_tracks_at_shot_cuts
                else None,
                monitor=IntegrityMonitor(s.camera_id, cfg.integrity, live=s.live) if cfg.integrity.enabled else None,
            )
            for s in sources
        ]
        self.signer = signer
        self.pad = pad if pad is not None else build_pad(cfg.pad)
        self.snapshot_id = snapshot_id
        self._board = CounterBoard(len(self._cams))
        self._progress = ProgressBoard(ids)
        self._revoked: frozenset[str] = frozenset()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._done = threading.Event()
        self._errors: list[BaseException] = []
        self._errors_lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._started = False
        self._closed = False

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def min_similarity(self) -> float:
        return self.decider.min_similarity

    def counters(self) -> Counters:
        return self._board.snapshot()

    def camera_progress(self) -> tuple[CameraProgress, ...]:
        """Per camera: frames processed and when the last one was (the heartbeat)."""
        return self._progress.snapshot()

    def revoke(self, subjects: frozenset[str], gallery: Gallery) -> None:
        """Stop matching ``subjects`` now: search ``gallery`` (built without them) from the next
        round on, and drop any alert for them still in flight (a removed watch-list entry)."""
        if gallery.model_id != self.engine.embedder.model_id:
            raise ConfigError("the new gallery is for another model")
        self._revoked = self._revoked | subjects
        self.gallery = gallery

    def integrity(self) -> tuple[IntegrityStatus, ...]:
        """Stream-integrity counters and flags of every camera (empty when the checks are off)."""
        return tuple(c.monitor.status() for c in self._cams if c.monitor is not None)

    def start(self) -> None:
        if self._started:
            raise ConfigError("pipeline already started")
        self._started = True
        for cam in self._cams:
            cam.reader = threading.Thread(
                target=self._read_loop, args=(cam,), name=f"overt-reader-{cam.camera_id}", daemon=True
            )
            cam.reader.start()
        self._worker = threading.Thread(target=self._work_loop, name="overt-worker", daemon=True)
        self._worker.start()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait until every source is exhausted (or the pipeline stopped); True when it has."""
        return self._done.wait(timeout_s)

    def stop(self) -> None:
        """Ask every thread to stop (returns at once; :meth:`close` joins)."""
        self._stop.set()
        self._wake.set()

    def close(self) -> Counters:
        """Stop, join every thread (bounded by ``join_timeout_s``), close sources; re-raise a worker error."""
        if self._closed:
            return self._board.snapshot()
        self._closed = True
        self.stop()
        timeout = self.config.join_timeout_s
        if self._worker is not None:
            self._worker.join(timeout)
            if self._worker.is_alive():
                log.error("pipeline worker did not stop within %.1f s", timeout)
        for cam in self._cams:
            if cam.reader is not None:
                cam.reader.join(timeout)
                if cam.reader.is_alive():
                    log.error("reader of camera %s did not stop within %.1f s", cam.camera_id, timeout)
            self._close_source(cam)
            self._finish_camera(cam)
        self._board.finish()
        with self._errors_lock:
            first = self._errors[0] if self._errors else None
        if first is not None:
            if isinstance(first, OvertError):
                raise first
            raise OvertError(f"pipeline failed: {first.__class__.__name__}: {first}") from first
        return self._board.snapshot()

    def run(self, stop_event: threading.Event | None = None, *, poll_s: float = 0.1) -> Counters:
        """Start, run until the sources are exhausted or ``stop_event`` is set, close; return counters."""
        self.start()
        try:
            while not self.wait(poll_s):
                if stop_event is not None and stop_event.is_set():
                    break
        finally:
            counters = self.close()
        return counters

    # -- threads --------------------------------------------------------------------------------

    def _fail(self, exc: BaseException) -> None:
        with self._errors_lock:
            self._errors.append(exc)

    def _close_source(self, cam: _Camera) -> None:
        try:
            cam.source.close()
        except Exception:  # closing must never take the pipeline down
            log.exception("closing camera %s failed", cam.camera_id)

    def _read_loop(self, cam: _Camera) -> None:
        timeout = self.config.read_timeout_s
        try:
            cam.source.start()
            n = 0
            reconnects = 0
            while not self._stop.is_set():
                frame = cam.source.read(timeout)
                if frame is None:
                    if cam.source.stats().exhausted:
                        break
                    continue
                n += 1
                if cam.source.live:
                    seen_reconnects = cam.source.stats().reconnects
                    if seen_reconnects != reconnects:
                        reconnects = seen_reconnects
                        cam.resume_index = frame.index  # set before the frame is queued
                        if cam.monitor is not None:
                            cam.monitor.stream_restarted()
                if cam.monitor is not None:
                    cam.monitor.observe_frame(frame)
                if cam.source.live:
                    while True:
                        try:
                            cam.queue.put_nowait(frame)
                            break
                        except queue.Full:
                            try:
                                cam.queue.get_nowait()
                                self._board.add(pipeline_dropped=1)
                            except queue.Empty:
                                pass
                else:
                    while not self._stop.is_set():
                        try:
                            cam.queue.put(frame, timeout=0.1)
                            break
                        except queue.Full:
                            continue
                self._wake.set()
                if n % 16 == 1:
                    self._board.set_source_dropped(cam.camera_id, cam.source.stats().frames_dropped)
            self._board.set_source_dropped(cam.camera_id, cam.source.stats().frames_dropped)
        except Exception as exc:
            log.error("camera %s: %s", cam.camera_id, exc)
            self._fail(exc)
        finally:
            self._close_source(cam)
            cam.reader_done = True
            self._wake.set()

    def _work_loop(self) -> None:
        try:
            while True:
                batch: list[tuple[_Camera, Frame]] = []
                for cam in self._cams:
                    if cam.finished:
                        continue
                    try:
                        batch.append((cam, cam.queue.get_nowait()))
                        cam.backlog = cam.queue.qsize()
                    except queue.Empty:
                        if cam.reader_done and cam.queue.empty():
                            self._finish_camera(cam)
                if self._stop.is_set():
                    break
                if batch:
                    self._process(batch)
                    continue
                if all(c.finished for c in self._cams):
                    break
                self._wake.wait(0.05)
                self._wake.clear()
        except Exception as exc:
            log.error("pipeline worker failed: %s", exc.__class__.__name__)
            self._fail(exc)
            self._stop.set()
        finally:
            self._done.set()

    def _finish_camera(self, cam: _Camera) -> None:
        if cam.finished:
            return
        cam.finished = True
        for tid in cam.tracker.end_all():
            self._end_track(cam, tid)
        if cam.annotator is not None:
            cam.annotator.close()
        self._board.add(cameras_done=1)
        self._board.set(tracks_active=sum(c.tracker.active_count for c in self._cams))

    def _identity_changed(self, st: _ProbeState, template: Template) -> bool:
        """The probe matches none of its track's recent probes: someone else is in the box."""
        if self.split_similarity is None or not st.recent:
            return False
        sims = np.stack(list(st.recent)) @ template.vector
        return bool(float(sims.max()) < self.split_similarity)

    def _split(self, probe: _Probe, passed: list[_ProbeState]) -> None:
        """End the probe's track and continue its box as a new track, starting with this probe."""
        cam, frame, old = probe.cam, probe.frame, probe.state
        face = cam.tracker.split(
            probe.face, frame_index=frame.index, pts_s=frame.pts_s, captured_monotonic_s=frame.captured_monotonic_s
        )
        self._end_track(cam, probe.face.track_id)
        st = _ProbeState(last_embed_pts_s=old.last_embed_pts_s, best_score=probe.quality.score(), embedded=1)
        cam.probes[face.track_id] = st
        for i, other in enumerate(passed):
            if other is old:
                passed[i] = st
        probe.state = st
        probe.face = face
        probe.update = replace(
            probe.update,
            faces=tuple(face if f.detection_index == face.detection_index else f for f in probe.update.faces),
        )
        log.info("camera %s: a track changed identity and was split", cam.camera_id)

    def _end_track(self, cam: _Camera, track_id: int) -> None:
        cam.probes.pop(track_id, None)
        cam.labels.pop(track_id, None)
        self.decider.forget((cam.camera_id, track_id))

    # -- one round ------------------------------------------------------------------------------

    def _should_embed(self, st: _ProbeState, score: float, pts_s: float) -> bool:
        cfg = self.config
        dt = pts_s - st.last_embed_pts_s
        if dt < 1.0 / cfg.max_embeddings_per_track_per_s - 1e-6:
            return False
        if st.embedded < cfg.vote_window or dt >= cfg.refresh_interval_s:
            return True
        return score >= st.best_score + cfg.quality_improvement

    def _detect_now(self, cam: _Camera) -> bool:
        """Whether to detect in this camera's frame now (else its tracks coast).

        Fixed cadence: every ``detect_every_n_frames``-th frame. Adaptive (live cameras only: a
        file is never behind, every frame of it is processed): the interval grows by one frame
        while frames wait for this camera after the worker took one (it is behind), up to
        ``max_detect_interval_frames``, and shrinks back to the fixed cadence when none wait.
        """
        cfg = self.config
        # A frame that is written is detected: a face that appears on a skipped frame would
        # otherwise be written unblurred. A live view keeps ~2 frames a second: only those are
        # detected out of cadence and rendered (not all 25, as when it was fed every frame).
        if cam.write_now:
            cam.undetected = 0
            return True
        if not (cfg.adaptive_detection and cam.source.live):
            return cam.seen % cfg.detect_every_n_frames == 0
        base = min(cfg.detect_every_n_frames, cfg.max_detect_interval_frames)
        if cam.backlog > 0:
            cam.detect_interval = min(cfg.max_detect_interval_frames, max(base, cam.detect_interval) + 1)
        else:
            cam.detect_interval = max(base, cam.detect_interval - 1)
        if cam.seen == 0 or cam.undetected + 1 >= cam.detect_interval:
            cam.undetected = 0
            return True
        cam.undetected += 1
        return False

    def _detect_all(self, frames: list[Frame]) -> list[FaceDetections]:
        """Detections for each frame: one detector batch when configured and supported."""
        cfg = self.config
        detector = self.engine.detector
        batch_fn = getattr(detector, "detect_batch", None) if cfg.batch_detection else None
        if batch_fn is not None and len(frames) > 1:
            found: list[FaceDetections] = batch_fn([f.image for f in frames], score_threshold=self._detect_score)
            return found
        return [detector.detect(f.image, score_threshold=self._detect_score) for f in frames]

    @property
    def _detect_score(self) -> float:
        """One detector pass serves both: faces from ``track_low_score`` are tracked, those from
        ``redaction_min_score`` up are blurred too (greedy NMS keeps the higher boxes unchanged)."""
        cfg = self.config
        low = cfg.redaction_min_score
        return cfg.track_low_score if low is None else min(low, cfg.track_low_score)

    def _split_faint(self, found: FaceDetections) -> tuple[FaceDetections, npt.NDArray[np.float32]]:
        """The detections to track, and the faint boxes (below ``track_low_score``) only to blur."""
        faint = found.scores < self.config.track_low_score
        if not faint.any():
            return found, _NO_BOXES
        return found[~faint], found.xyxy[faint]

    def _throttled(self, st: _ProbeState, pts_s: float) -> bool:
        """The embedding rate limit keeps this track from being embedded at ``pts_s`` whatever its quality."""
        return pts_s - st.last_embed_pts_s < 1.0 / self.config.max_embeddings_per_track_per_s - 1e-6

    def _process(self, batch: list[tuple[_Camera, Frame]]) -> None:
        cfg = self.config
        embedder = self.engine.embedder
        probes: list[_Probe] = []
        rounds: list[tuple[_Camera, Frame, FaceDetections, TrackUpdate, npt.NDArray[np.float32]]] = []
        rejected = 0
        passed: list[_ProbeState] = []  # one per face that passed the quality gate this round
        detect: list[bool] = []
        for cam, frame in batch:
            if cam.resumed_index < cam.resume_index <= frame.index:
                # The stream was reopened: whoever is in view now is not known to be who was
                # in view before the outage, so every track of this camera ends here.
                cam.resumed_index = cam.resume_index
                for tid in cam.tracker.end_all():
                    self._end_track(cam, tid)
                log.info("camera %s reconnected: its tracks end", cam.camera_id)
                if cam.cuts is not None:
                    cam.cuts.reset()
            if cam.cuts is not None and cam.cuts.observe(frame.image):
                # A new shot: whoever is in view is not known to be who was in view before.
                for tid in cam.tracker.end_all():
                    self._end_track(cam, tid)
            due = getattr(cam.annotator, "due", None)
            cam.write_now = cam.annotator is not None and (due is None or bool(due()))
            detect.append(self._detect_now(cam))
            cam.seen += 1
        found = iter(self._detect_all([frame for (_, frame), d in zip(batch, detect, strict=True) if d]))
        for (cam, frame), detect_now in zip(batch, detect, strict=True):
            if detect_now:
                dets, faint = self._split_faint(next(found))
                update = cam.tracker.update(
                    dets, frame_index=frame.index, pts_s=frame.pts_s, captured_monotonic_s=frame.captured_monotonic_s
                )
            else:
                dets, faint = FaceDetections.empty(), _NO_BOXES
                update = cam.tracker.coast(frame.index)
            for tid in update.ended:
                self._end_track(cam, tid)
            for tf in update.faces:
                known = cam.probes.get(tf.track_id)
                if cfg.lazy_quality and known is not None and self._throttled(known, frame.pts_s):
                    # Not embedded this frame whatever its quality: judged as when last measured.
                    if known.last_ok:
                        passed.append(known)
                    else:
                        rejected += 1
                    continue
                i = tf.detection_index
                lms = dets.landmarks5[i]
                quality = measure_quality(dets.xyxy[i], lms, float(dets.scores[i]), align_face(frame.image, lms, 112))
                ok = self.gate.check(quality).ok
                if known is not None:
                    known.last_ok = ok
                if not ok:
                    rejected += 1
                    continue
                st = cam.probes.setdefault(tf.track_id, _ProbeState())
                passed.append(st)
                score = quality.score()
                if not self._should_embed(st, score, frame.pts_s):
                    continue
                st.last_embed_pts_s = frame.pts_s
                st.best_score = max(st.best_score, score)
                st.embedded += 1
                crop = embedder.align(frame.image, dets.xyxy[i], lms)
                probes.append(_Probe(cam, frame, dets, update, tf, quality, crop, st, faint))
            rounds.append((cam, frame, dets, update, faint))
        # A track's first face past the quality gate is always embedded, so every face in
        # ``passed`` is judged by its track's mean norm, including this round's probe.
        templates: list[Template] = []
        if probes:
            templates, norms = embed_with_norms(embedder, [p.crop for p in probes])
            for probe, template, norm in zip(probes, templates, norms, strict=True):
                if self._identity_changed(probe.state, template):
                    self._split(probe, passed)
                probe.state.add_norm(float(norm))
                if self.split_similarity is not None:
                    probe.state.recent.append(template.vector)
        min_norm = self.min_recognisability
        kept = [i for i, p in enumerate(probes) if p.state.recognisable(min_norm)]
        probes = [probes[i] for i in kept]
        templates = [templates[i] for i in kept]
        faces_seen = sum(st.recognisable(min_norm) for st in passed)
        for cam, _ in batch:
            self._progress.processed(cam.camera_id)
        self._board.add(
            frames=len(batch),
            faces_seen=faces_seen,
            probes_rejected=rejected,
            faces_unrecognisable=len(passed) - faces_seen,
            probes_embedded=len(probes),
        )
        self._board.set(
            tracks_started=sum(c.tracker.tracks_started for c in self._cams),
            tracks_active=sum(c.tracker.active_count for c in self._cams),
        )
        if probes:
            vectors = np.stack([t.vector for t in templates])
            results = self.gallery.search(vectors, k=1)
            self._board.add(faces_searched=len(vectors))
            for probe, candidates in zip(probes, results, strict=True):
                key = (probe.cam.camera_id, probe.face.track_id)
                decision = self.decider.observe(key, candidates[0] if candidates else None)
                if decision.alert and decision.subject is not None and decision.similarity is not None:
                    self._alert(probe, decision.subject, decision.similarity, decision.votes, decision.window)
            del templates, vectors, results
        for cam, frame, dets, update, faint in rounds:
            if cam.annotator is not None and cam.write_now:
                if cam.annotator.frames == 0:
                    fps = getattr(cam.source, "fps", None)
                    if isinstance(fps, float) and fps > 0:
                        cam.annotator.fps = fps
                cam.annotator.write(self._annotated(cam, frame, dets, update, faint))
        del probes, rounds

    def _redaction(
        self,
        cam: _Camera,
        dets: FaceDetections,
        update: TrackUpdate,
        faint: npt.NDArray[np.float32],
        *,
        only: TrackedFace | None = None,
    ) -> tuple[npt.NDArray[np.float32], list[LabelledBox]]:
        """Boxes to blur and alerts to label in a frame. ``only``: label just that face (alert context).

        ``faint``: the detector's boxes below the tracking threshold, blurred unless one is the alerted face.
        """
        keep_idx: set[int] = set()
        labelled: list[LabelledBox] = []
        for tf in update.faces:
            label = cam.labels.get(tf.track_id)
            if only is not None:
                label = cam.labels.get(tf.track_id) if tf.track_id == only.track_id else None
            if label is not None:
                keep_idx.add(tf.detection_index)
                labelled.append(LabelledBox(tf.xyxy, label))
        blur = [dets.xyxy[i] for i in range(len(dets)) if i not in keep_idx]
        for tid, box in zip(update.coasting_ids, update.coasting_xyxy, strict=True):
            label = cam.labels.get(tid) if only is None else None
            if label is None:
                blur.append(box)
            else:
                labelled.append(LabelledBox(box, label))
        boxes = np.stack(blur).astype(np.float32) if blur else _NO_BOXES
        keep = np.stack([lb.xyxy for lb in labelled]).astype(np.float32) if labelled else _NO_BOXES
        return inclusive_blur(boxes, faint, keep, keep_iou=self.config.redaction_keep_iou), labelled

    def _annotated(
        self, cam: _Camera, frame: Frame, dets: FaceDetections, update: TrackUpdate, faint: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.uint8]:
        blur, labelled = self._redaction(cam, dets, update, faint)
        return redacted_frame(frame.image, blur, labelled)

    def _alert(self, probe: _Probe, subject: str, similarity: float, votes: int, window: int) -> None:
        if subject in self._revoked:
            return
        cam, tf = probe.cam, probe.face
        pad = None
        if self.pad is not None:
            pad = judge(self.pad, probe.frame.image, tf.xyxy, self.config.pad.threshold)
            if not pad.live and self.config.pad.policy == "suppress":
                self._board.add(pad_suppressed=1)
                log.info("alert candidate on camera %s suppressed as a presentation attack", cam.camera_id)
                return
        flags = cam.monitor.status().active if cam.monitor is not None else ()
        pin = getattr(cam.source, "pinned_cert_sha256", None)
        cam.labels[tf.track_id] = f"{subject} {similarity:.2f}"
        faint = probe.faint
        if self._redaction_detector is not None and self.config.redaction_min_score is not None:
            # The stored frame is detected again at a larger input: small bystanders are blurred too.
            again = self._redaction_detector.detect(probe.frame.image, score_threshold=self.config.redaction_min_score)
            faint = np.concatenate([faint, again.xyxy])
        blur, labelled = self._redaction(cam, probe.dets, probe.update, faint, only=tf)
        redacted = redacted_frame(probe.frame.image, blur, labelled)
        context = thumbnail_jpeg(redacted, self.config.context_thumbnail_px)
        scene = thumbnail_jpeg(redacted, self.config.scene_frame_px)
        del redacted
        latency_ms = (time.monotonic() - tf.first_seen_monotonic_s) * 1000.0
        alert = Alert(
            alert_id=uuid.uuid4().hex,
            camera_id=cam.camera_id,
            subject=subject,
            similarity=similarity,
            track_id=tf.track_id,
            frame_index=probe.frame.index,
            pts_s=probe.frame.pts_s,
            first_seen_pts_s=tf.first_pts_s,
            alerted_at=datetime.now(UTC),
            quality=probe.quality,
            xyxy=tf.xyxy,
            latency_ms=max(0.0, latency_ms),
            votes=votes,
            window=window,
            model_id=self.engine.embedder.model_id,
            probe_crop_jpeg=encode_jpeg(probe.crop),
            context_jpeg=context,
            scene_jpeg=scene,
            integrity_flags=flags,
            pad=pad,
            camera_cert_sha256=pin if isinstance(pin, str) else None,
            snapshot_id=self.snapshot_id,
        )
        if self.signer is not None:
            alert = sign_alert(alert, self.signer)
        self._board.alert_latency(alert.latency_ms)
        log.info("alert %s on camera %s track %d", alert.alert_id, cam.camera_id, tf.track_id)
        for sink in self.sinks:
            try:
                sink.emit(alert)
            except OvertError:
                log.exception("alert sink %s failed for alert %s", type(sink).__name__, alert.alert_id)
                raise
