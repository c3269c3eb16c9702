"""The multi-camera levers (issue 14): each keeps what the pipeline finds.

Batched detection across cameras (off by default), detection cadence adapted to load (live
cameras only) and skipping the quality crop of faces the rate limit will not embed (both on by
default): the enrolled face still alerts on every camera, every track is still detected at least every
``max_detect_interval_frames`` frames, and the faces counted and searched stay the same.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from overt.alerts import MemorySink
from overt.config import PipelineConfig
from overt.domain.detections import FaceDetections
from overt.domain.frames import Frame
from overt.errors import ConfigError
from overt.matching import build_gallery
from overt.pipeline import Pipeline
from overt.pipeline import runner as runner_module
from overt.pipeline.synthetic import SyntheticClip
from overt.vision.align import align_face
from overt.vision.engine import FaceEngine
from overt.watchlist import enrol_folder
from tests.fakes import FakeDetector, FakeEmbedder
from tests.pipeline.conftest import altered, write_watchlist
from tests.pipeline.fakes import ListSource
from tests.pipeline.test_runner import _two_face_scene

LEVERS = PipelineConfig(batch_detection=True, adaptive_detection=True, lazy_quality=True)


def test_levers_on_every_camera_still_alerts(
    engine: FaceEngine, yaoming_bgr: npt.NDArray[np.uint8], yao_patch: npt.NDArray[np.uint8], tmp_path: Path
) -> None:
    clip = SyntheticClip(640, 360, 10, 2.0, [], yao_patch, target_from_s=0.0, target_face_px=(80, 100))
    frames = list(clip.frames())
    report = enrol_folder(write_watchlist(tmp_path / "wl", "subject-001", altered(yaoming_bgr)), engine)
    mem = MemorySink()
    sources = [ListSource(c, frames, fps=10) for c in ("a", "b", "c")]
    counters = Pipeline(sources, engine, report.watchlist.gallery(), [mem], config=LEVERS).run()
    assert counters.frames == 3 * len(frames)
    assert sorted(a.camera_id for a in mem.alerts) == ["a", "b", "c"]
    assert {a.subject for a in mem.alerts} == {"subject-001"}


def _pipeline(config: PipelineConfig) -> Pipeline:
    img, dets = _two_face_scene()
    embedder = FakeEmbedder()
    engine = FaceEngine(FakeDetector(queue=[dets]), embedder)
    gallery = build_gallery(["nobody"], np.ones((1, 256), np.float32) / 16.0, model_id=embedder.model_id)
    return Pipeline([ListSource("cam", [img] * 30)], engine, gallery, [], config=config)


def test_adaptive_cadence_backs_off_under_load_but_detects_every_track_often_enough() -> None:
    pipe = _pipeline(PipelineConfig(adaptive_detection=True, detect_every_n_frames=2, max_detect_interval_frames=5))
    cam = pipe._cams[0]
    cam.source.live = True  # adaptive cadence is for live cameras only
    cam.backlog = 3  # the worker is behind on this camera
    loaded = []
    for _ in range(40):
        loaded.append(pipe._detect_now(cam))
        cam.seen += 1
    gaps = np.diff(np.flatnonzero(loaded))
    assert gaps.max() == 5  # backed off to the cap, never beyond it
    assert loaded[0]
    cam.backlog = 0  # caught up: back to the configured cadence
    calm = []
    for _ in range(20):
        calm.append(pipe._detect_now(cam))
        cam.seen += 1
    assert list(np.diff(np.flatnonzero(calm))[-5:]) == [2] * 5


def test_adaptive_cap_must_keep_tracks_alive() -> None:
    with pytest.raises(ConfigError):
        _pipeline(PipelineConfig(adaptive_detection=True, max_detect_interval_frames=8, track_max_missed_frames=5))


def test_default_adaptive_cap_follows_a_shorter_track_life() -> None:
    """Adaptive detection is on by default: a short track life lowers the default cap, never fails."""
    pipe = _pipeline(PipelineConfig(track_max_missed_frames=2))
    assert pipe.config.adaptive_detection
    assert pipe.config.max_detect_interval_frames == 3


def test_lazy_quality_skips_crops_but_counts_and_searches_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    crops = {"n": 0}
    real = align_face

    def counting(*args: object, **kwargs: object) -> npt.NDArray[np.uint8]:
        crops["n"] += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runner_module, "align_face", counting)
    eager = _pipeline(PipelineConfig(detect_every_n_frames=1, lazy_quality=False)).run()
    eager_crops, crops["n"] = crops["n"], 0
    lazy = _pipeline(PipelineConfig(detect_every_n_frames=1, lazy_quality=True)).run()
    assert crops["n"] < eager_crops * 0.75
    assert lazy.faces_seen == eager.faces_seen == 60
    assert lazy.faces_searched == eager.faces_searched > 0
    assert lazy.probes_rejected == eager.probes_rejected


class _SamplingWriter:
    """A live-view-like frame writer that keeps one frame in five (``due``)."""

    def __init__(self) -> None:
        self.fps = 25.0
        self.frames = 0
        self.calls = 0
        self.kept: list[int] = []

    def due(self) -> bool:
        self.calls += 1
        return self.calls % 5 == 1

    def write(self, frame: npt.NDArray[np.uint8]) -> None:
        self.frames += 1
        self.kept.append(self.calls)

    def close(self) -> None:
        return None


def test_a_live_view_is_detected_and_rendered_only_on_the_frames_it_keeps() -> None:
    """A sampling writer (the console's live view, ~2 of 25 frames a second) gets only the frames
    it keeps, each detected on that very frame; the others follow the cadence (every 2nd)."""
    pipe = _pipeline(PipelineConfig(detect_every_n_frames=2))
    writer = _SamplingWriter()
    pipe._cams[0].annotator = writer  # type: ignore[assignment]
    calls = {"n": 0}
    real = pipe._detect_all

    def counting(frames: list[Frame]) -> list[FaceDetections]:
        calls["n"] += len(frames)
        return real(frames)

    pipe._detect_all = counting  # type: ignore[method-assign]
    pipe.run()
    assert writer.kept == [1, 6, 11, 16, 21, 26]  # only the due frames were rendered
    assert writer.frames == 6
    # 15 frames of the cadence (0, 2, .., 28) + the due frames that fall on odd indexes (5, 15, 25).
    assert calls["n"] == 18
