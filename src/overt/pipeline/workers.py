"""Camera groups in several processes on one host (``overt run --workers N``).

One Python process runs one inference worker; on a machine with more cores than that worker
can use, :class:`ProcessPipeline` splits the cameras into ``workers`` groups (round robin) and
runs each group's :class:`~overt.pipeline.runner.Pipeline` in its own process (``spawn``: no
threads are forked). Each child builds its own engine from the engine settings and gets the
gallery over its pipe (memory only, never a file). Camera ids are those of the one-process
pipeline (``cam-1..cam-n`` in URI order), so alerts read the same either way.

Only alerts, counters, camera heartbeats and error messages come back from a child, over a
queue; the parent hands alerts to its sinks from one thread. With :meth:`ProcessPipeline.preview`, a child also
sends the live view's redacted frames of the previewed cameras (every face that matches nobody
blurred, as in one process): a JPEG thumbnail at most every ``every_s`` per camera, on a small
queue of its own; a thumbnail is dropped, never waited for, when the parent is behind. The
object behaves like a ``Pipeline`` for the deployment runtime: ``start``, ``wait``,
``counters``, ``revoke``, ``stop``, ``close``.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import pickle
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event as MpEvent
from typing import TYPE_CHECKING, Any

from overt.alerts.sinks import AlertSink
from overt.config import EngineConfig, PipelineConfig, SourceConfig
from overt.domain.alerts import Alert
from overt.errors import ConfigError, OvertError
from overt.matching.gallery import Gallery
from overt.pipeline.counters import Counters
from overt.pipeline.heartbeat import CameraProgress
from overt.pipeline.redact import thumbnail_jpeg

if TYPE_CHECKING:
    from overt.crypto.signing import SigningKey
    from overt.sources.integrity import IntegrityStatus

log = logging.getLogger(__name__)

_NOT_SUMMED = ("elapsed_s", "fps", "alert_latency_ms_p50", "alert_latency_ms_p95")


def camera_groups(n_cameras: int, workers: int) -> list[list[int]]:
    """Camera indexes per worker, round robin; never an empty group."""
    if workers < 1:
        raise ConfigError("workers must be >= 1")
    return [g for g in ([i for i in range(n_cameras) if i % workers == w] for w in range(workers)) if g]


def merge_counters(parts: Sequence[Counters]) -> Counters:
    """One view of several workers' counters: sums; the slowest elapsed; the worst latency percentiles."""
    values: dict[str, Any] = {
        f.name: sum(getattr(p, f.name) for p in parts) for f in fields(Counters) if f.name not in _NOT_SUMMED
    }
    p50 = [p.alert_latency_ms_p50 for p in parts if p.alert_latency_ms_p50 is not None]
    p95 = [p.alert_latency_ms_p95 for p in parts if p.alert_latency_ms_p95 is not None]
    values["elapsed_s"] = max((p.elapsed_s for p in parts), default=0.0)
    values["fps"] = round(sum(p.fps for p in parts), 2)
    values["alert_latency_ms_p50"] = max(p50) if p50 else None
    values["alert_latency_ms_p95"] = max(p95) if p95 else None
    return Counters(**{f.name: values[f.name] for f in fields(Counters)})


@dataclass(frozen=True, slots=True)
class _Job:
    worker: int
    uris: list[str]
    camera_ids: list[str]
    gallery: Gallery
    engine: EngineConfig | None
    config: PipelineConfig
    sources: SourceConfig | None
    realtime: bool
    signer: SigningKey | None = None
    snapshot_id: str | None = None
    preview: tuple[str, ...] = ()
    preview_every_s: float = 0.5
    preview_px: int = 640
    threads: int = 0


def worker_threads(workers: int, cpus: int | None = None) -> int:
    """Threads for each worker process's ONNX Runtime sessions and OpenCV: its share of the
    machine's cores (at least 1). Each session otherwise starts one thread per core in every
    process: ``workers`` x cores threads contending for the same cores (measured: BENCHMARKS.md,
    Multi-camera)."""
    n = cpus if cpus is not None else (os.cpu_count() or 1)
    return max(1, n // max(1, workers))


@dataclass(eq=False)
class _PreviewTap:
    """A previewed camera's redacted frames (the runner's frame-writer slot): a JPEG thumbnail
    at most every ``every_s`` onto the bounded preview queue, dropped when it is full."""

    previews: Any
    camera_id: str
    every_s: float
    longer_side_px: int
    fps: float = 25.0
    frames: int = 0
    dropped: int = 0
    _last: float = -float("inf")

    def due(self) -> bool:
        """Whether a frame written now would be kept: the pipeline detects and redacts only those
        (a frame in ``every_s``), not every frame of the camera."""
        return time.monotonic() - self._last >= self.every_s

    def write(self, frame: Any) -> None:
        self.frames += 1
        now = time.monotonic()
        if now - self._last < self.every_s:
            return
        self._last = now
        try:
            self.previews.put_nowait((self.camera_id, thumbnail_jpeg(frame, self.longer_side_px)))
        except queue.Full:
            self.dropped += 1

    def close(self) -> None:
        return None


def _tap_previews(pipe: object, job: _Job, previews: Any) -> None:
    for cam in getattr(pipe, "_cams", ()):
        if cam.camera_id in job.preview and cam.annotator is None:
            cam.annotator = _PreviewTap(previews, cam.camera_id, job.preview_every_s, job.preview_px)


def _child(job: _Job, out: Any, stop: MpEvent, control: Any, previews: Any) -> None:
    """A worker process: its camera group's pipeline; alerts and counters go to ``out``."""
    from overt.config import build_engine
    from overt.pipeline.compose import compose_pipeline

    class _QueueSink:
        def emit(self, alert: Alert) -> None:
            out.put(("alert", job.worker, alert))

        def close(self, timeout_s: float = 0.0) -> None:
            return None

    try:
        engine_cfg = job.engine if job.engine is not None else EngineConfig()
        if job.threads and engine_cfg.threads == 0:
            import cv2

            engine_cfg = engine_cfg.model_copy(update={"threads": job.threads})
            cv2.setNumThreads(job.threads)
        engine = build_engine(engine_cfg)
        pipe = compose_pipeline(
            job.uris, engine, job.gallery, [_QueueSink()], config=job.config, source_config=job.sources,
            realtime=job.realtime, camera_ids=job.camera_ids, signer=job.signer, snapshot_id=job.snapshot_id,
        )  # fmt: skip
        out.put(("pid", job.worker, os.getpid()))
        previews.cancel_join_thread()  # a thumbnail still buffered at exit is simply lost
        _tap_previews(pipe, job, previews)
        pipe.start()
        try:
            while not pipe.wait(0.25) and not stop.is_set():
                out.put(("counters", job.worker, pipe.counters()))
                out.put(("integrity", job.worker, pipe.integrity()))
                out.put(("progress", job.worker, pipe.camera_progress()))
                try:
                    subjects, gallery = control.get_nowait()
                    pipe.revoke(subjects, gallery)
                except queue.Empty:
                    pass
        finally:
            counters = pipe.close()
        out.put(("counters", job.worker, counters))
    except BaseException as exc:  # reported to the parent, which raises it from close()
        permanent = isinstance(exc, ConfigError)
        out.put(("error", job.worker, (permanent, f"{exc.__class__.__name__}: {exc}")))
    finally:
        out.put(("done", job.worker, None))


class ProcessPipeline:
    """The cameras of ``uris`` in ``workers`` processes, each with its own inference worker."""

    def __init__(
        self,
        uris: Sequence[str],
        gallery: Gallery,
        sinks: Sequence[AlertSink],
        *,
        workers: int,
        engine_config: EngineConfig | None = None,
        config: PipelineConfig | None = None,
        source_config: SourceConfig | None = None,
        realtime: bool = False,
        signer: SigningKey | None = None,
        snapshot_id: str | None = None,
        threads: int | None = None,
    ) -> None:
        """``threads``: ONNX Runtime and OpenCV threads per worker when the engine config leaves
        them to the default (0); ``None``: :func:`worker_threads` (cores / workers)."""
        from overt.pipeline.compose import camera_ids

        if not uris:
            raise ConfigError("the pipeline needs at least one source")
        ids = camera_ids(len(uris))
        try:
            pickle.dumps(gallery)  # handed to each worker over its pipe (memory only)
        except Exception as exc:
            raise ConfigError(
                f"worker processes need a gallery that can be handed over ({exc.__class__.__name__})"
            ) from exc
        self.sinks = tuple(sinks)
        self.gallery = gallery
        self._ctx = mp.get_context("spawn")
        self._out: Any = self._ctx.Queue()
        self._stop = self._ctx.Event()
        groups = camera_groups(len(uris), workers)
        per_worker = worker_threads(len(groups)) if threads is None else threads
        self._jobs = [
            _Job(w, [uris[i] for i in g], [ids[i] for i in g], gallery, engine_config, config or PipelineConfig(),
                 source_config, realtime, signer, snapshot_id, threads=per_worker)
            for w, g in enumerate(groups)
        ]  # fmt: skip
        self._controls: list[Any] = [self._ctx.Queue() for _ in self._jobs]
        self._procs: list[SpawnProcess] = []
        self._counters: dict[int, Counters] = {}
        self._integrity: dict[int, tuple[IntegrityStatus, ...]] = {}
        self._progress: dict[int, tuple[CameraProgress, ...]] = {}
        self.pids: dict[int, int] = {}
        self._done: set[int] = set()
        self._errors: list[tuple[bool, str]] = []
        self._lock = threading.Lock()
        self._all_done = threading.Event()
        self._pump: threading.Thread | None = None
        self._closed = False
        self.camera_ids = tuple(ids)
        self._previews: Any = self._ctx.Queue(maxsize=2 * len(self._jobs))
        self._on_preview: Callable[[str, bytes], None] | None = None
        self._preview_pump: threading.Thread | None = None

    @property
    def workers(self) -> int:
        return len(self._jobs)

    def preview(
        self,
        camera_ids: Sequence[str],
        on_frame: Callable[[str, bytes], None],
        *,
        every_s: float = 0.5,
        longer_side_px: int = 640,
    ) -> None:
        """Before :meth:`start`: send these cameras' redacted frames (JPEG) to ``on_frame(camera_id,
        jpeg)``, on a thread of their own, at most one per camera every ``every_s``."""
        if self._procs:
            raise ConfigError("choose the previewed cameras before the pipeline starts")
        if every_s <= 0:
            raise ConfigError("a preview needs a positive interval")
        wanted = tuple(c for c in camera_ids if c in self.camera_ids)
        self._jobs = [
            replace(j, preview=tuple(c for c in wanted if c in j.camera_ids), preview_every_s=every_s,
                    preview_px=longer_side_px)
            for j in self._jobs
        ]  # fmt: skip
        self._on_preview = on_frame

    def start(self) -> None:
        for job, control in zip(self._jobs, self._controls, strict=True):
            p = self._ctx.Process(
                target=_child,
                args=(job, self._out, self._stop, control, self._previews),
                name=f"overt-worker-{job.worker}",
            )
            p.start()
            self._procs.append(p)
        self._pump = threading.Thread(target=self._pump_loop, name="overt-worker-pump", daemon=True)
        self._pump.start()
        if self._on_preview is not None:
            self._preview_pump = threading.Thread(target=self._preview_loop, name="overt-worker-preview", daemon=True)
            self._preview_pump.start()

    def _preview_loop(self) -> None:
        on_frame = self._on_preview
        while on_frame is not None and not self._all_done.is_set():
            try:
                camera_id, jpeg = self._previews.get(timeout=0.25)
            except queue.Empty:
                continue
            try:
                on_frame(camera_id, jpeg)
            except Exception:
                log.exception("live preview of camera %s failed", camera_id)

    def _pump_loop(self) -> None:
        while len(self._done) < len(self._jobs):
            try:
                kind, worker, payload = self._out.get(timeout=0.5)
            except queue.Empty:
                if all(not p.is_alive() for p in self._procs):
                    break  # a child died without saying so (killed)
                continue
            if kind == "alert":
                for sink in self.sinks:
                    try:
                        sink.emit(payload)
                    except OvertError:
                        log.exception("alert sink %s failed", type(sink).__name__)
                        self.stop()
            elif kind == "counters":
                with self._lock:
                    self._counters[worker] = payload
            elif kind == "integrity":
                with self._lock:
                    self._integrity[worker] = payload
            elif kind == "progress":
                with self._lock:
                    self._progress[worker] = payload
            elif kind == "pid":
                self.pids[worker] = payload
            elif kind == "error":
                log.error("pipeline worker %d failed: %s", worker, payload[1])
                with self._lock:
                    self._errors.append(payload)
                self.stop()
            elif kind == "done":
                self._done.add(worker)
        self._all_done.set()

    def worker_counters(self) -> dict[int, Counters]:
        with self._lock:
            return dict(self._counters)

    def integrity(self) -> tuple[IntegrityStatus, ...]:
        """Stream-integrity status of every camera, as its worker last reported it."""
        with self._lock:
            return tuple(s for w in sorted(self._integrity) for s in self._integrity[w])

    def counters(self) -> Counters:
        return merge_counters(list(self.worker_counters().values()))

    def camera_progress(self) -> tuple[CameraProgress, ...]:
        """Every camera's heartbeat, as its worker last reported it (same host: same clock)."""
        with self._lock:
            return tuple(p for w in sorted(self._progress) for p in self._progress[w])

    def revoke(self, subjects: frozenset[str], gallery: Gallery) -> None:
        self.gallery = gallery
        for control in self._controls:
            control.put((subjects, gallery))

    def wait(self, timeout_s: float | None = None) -> bool:
        return self._all_done.wait(timeout_s)

    def stop(self) -> None:
        self._stop.set()

    def close(self, timeout_s: float = 20.0) -> Counters:
        if self._closed:
            return self.counters()
        self._closed = True
        self.stop()
        self._all_done.wait(timeout_s)
        for p in self._procs:
            p.join(5.0)
            if p.is_alive():
                log.error("pipeline worker %s did not stop; terminating it", p.name)
                p.terminate()
                p.join(5.0)
        if self._pump is not None:
            self._pump.join(2.0)
        if self._preview_pump is not None:
            self._preview_pump.join(2.0)
        counters = self.counters()
        with self._lock:
            errors = list(self._errors)
        for job, p in zip(self._jobs, self._procs, strict=True):
            if job.worker not in self._done and p.exitcode not in (0, None):
                errors.append((False, f"worker {job.worker} died (exit code {p.exitcode})"))
        if errors:
            permanent, message = errors[0]
            raise (ConfigError if permanent else OvertError)(f"pipeline worker failed: {message}")
        return counters
