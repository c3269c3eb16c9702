from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from overt.alerts import JsonlSink, MemorySink
from overt.config import PipelineConfig, ProbeQualityConfig
from overt.domain.detections import FaceDetections
from overt.domain.templates import Template
from overt.errors import ConfigError, VideoError
from overt.matching import build_gallery
from overt.pipeline import Pipeline
from overt.pipeline.synthetic import SyntheticClip
from overt.sources import open_source
from overt.vision.engine import FaceEngine
from overt.watchlist import enrol_folder
from tests.fakes import FakeDetector, FakeEmbedder, detections
from tests.pipeline.conftest import altered, write_watchlist
from tests.pipeline.fakes import BrokenSource, ListSource, ReconnectingSource


def yao_gallery(engine: FaceEngine, yaoming_bgr: npt.NDArray[np.uint8], tmp_path: Path):  # type: ignore[no-untyped-def]
    report = enrol_folder(write_watchlist(tmp_path / "wl", "subject-001", altered(yaoming_bgr)), engine)
    assert len(report.accepted) == 1
    return report.watchlist.gallery()


def test_alerts_once_on_the_enrolled_face_among_bystanders(
    engine: FaceEngine,
    yaoming_bgr: npt.NDArray[np.uint8],
    yao_patch: npt.NDArray[np.uint8],
    gdp_patches: list[npt.NDArray[np.uint8]],
    tmp_path: Path,
) -> None:
    clip = SyntheticClip(
        960, 540, 12.5, 3.0, gdp_patches[:3], yao_patch, bystander_face_px=70, target_face_px=(80, 120)
    )
    path = clip.write(tmp_path / "clip.mp4")
    mem = MemorySink()
    jsonl = tmp_path / "out" / "alerts.jsonl"
    sink = JsonlSink(jsonl)
    pipe = Pipeline(
        [open_source(str(path), camera_id="cam-1")],
        engine,
        yao_gallery(engine, yaoming_bgr, tmp_path),
        [mem, sink],
        annotate={"cam-1": tmp_path / "out" / "annotated.mp4"},
    )
    counters = pipe.run()
    sink.close()
    assert counters.frames == clip.frame_count
    assert counters.alerts == 1
    assert len(mem.alerts) == 1
    alert = mem.alerts[0]
    assert alert.subject == "subject-001"
    assert alert.similarity >= pipe.min_similarity
    assert clip.target_visible(alert.frame_index)
    assert alert.votes >= 2
    # Embedding is rate-limited per track: far fewer probes than tracked faces.
    assert counters.probes_embedded < counters.faces_seen / 2
    crop = np.asarray(cv2.imdecode(np.frombuffer(alert.probe_crop_jpeg, np.uint8), cv2.IMREAD_COLOR), np.uint8)
    assert crop.shape == (112, 112, 3)
    # The context thumbnail shows only the alerted face: the bystanders are blurred.
    context = np.asarray(cv2.imdecode(np.frombuffer(alert.context_jpeg, np.uint8), cv2.IMREAD_COLOR), np.uint8)
    assert max(context.shape[:2]) <= 480
    ctx_faces = engine.detector.detect(np.asarray(cv2.resize(context, (960, 540)), np.uint8))
    assert len(ctx_faces) == 1
    # The scene frame for the console's card: the same redaction at 960 px (the whole 960x540 frame).
    assert alert.scene_jpeg is not None
    scene = np.asarray(cv2.imdecode(np.frombuffer(alert.scene_jpeg, np.uint8), cv2.IMREAD_COLOR), np.uint8)
    assert scene.shape == (540, 960, 3)
    assert len(engine.detector.detect(scene)) == 1
    row = json.loads(jsonl.read_text().splitlines()[0])
    assert row["subject"] == "subject-001"
    assert row["camera"] == "cam-1"
    assert row["track_id"] == alert.track_id
    # Annotated video: same frame count, and the only face left visible is the alerted one.
    cap = cv2.VideoCapture(str(tmp_path / "out" / "annotated.mp4"))
    visible = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        visible.append(len(engine.detector.detect(np.asarray(img, np.uint8))))
    cap.release()
    assert len(visible) == clip.frame_count
    assert max(visible) <= 1


def test_several_cameras_share_the_worker(
    engine: FaceEngine,
    yaoming_bgr: npt.NDArray[np.uint8],
    yao_patch: npt.NDArray[np.uint8],
    tmp_path: Path,
) -> None:
    clip = SyntheticClip(640, 360, 10, 2.0, [], yao_patch, target_from_s=0.0, target_face_px=(80, 100))
    frames = list(clip.frames())
    mem = MemorySink()
    pipe = Pipeline(
        [ListSource("a", frames, fps=10), ListSource("b", frames, fps=10)],
        engine,
        yao_gallery(engine, yaoming_bgr, tmp_path),
        [mem],
    )
    counters = pipe.run()
    assert counters.frames == 2 * len(frames)
    assert counters.cameras_done == 2
    assert sorted(a.camera_id for a in mem.alerts) == ["a", "b"]


def test_a_reconnect_ends_the_tracks_so_the_face_alerts_again(
    engine: FaceEngine,
    yaoming_bgr: npt.NDArray[np.uint8],
    yao_patch: npt.NDArray[np.uint8],
    tmp_path: Path,
) -> None:
    # The face stands still across the outage: without the reset it would stay one track (one alert).
    clip = SyntheticClip(640, 360, 10, 2.0, [yao_patch], bystander_face_px=110)
    frames = list(clip.frames())
    mem = MemorySink()
    src = ReconnectingSource("cam", frames + frames, reconnect_at=len(frames))
    counters = Pipeline([src], engine, yao_gallery(engine, yaoming_bgr, tmp_path), [mem]).run()
    assert counters.tracks_started == 2
    assert [a.subject for a in mem.alerts] == ["subject-001", "subject-001"]
    first, second = mem.alerts
    assert first.track_id != second.track_id
    assert first.frame_index < len(frames) <= second.frame_index


def test_stop_event_ends_an_endless_source_promptly(
    engine: FaceEngine, yaoming_bgr: npt.NDArray[np.uint8], tmp_path: Path
) -> None:
    blank = np.full((240, 320, 3), 100, np.uint8)
    src = ListSource("cam", itertools.repeat(blank))
    pipe = Pipeline([src], engine, yao_gallery(engine, yaoming_bgr, tmp_path), [])
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    t0 = time.monotonic()
    counters = pipe.run(stop)
    assert time.monotonic() - t0 < 5.0
    assert counters.frames > 0
    assert counters.faces_seen == 0
    assert src.closed


def test_a_broken_source_raises_its_error_without_hanging(
    engine: FaceEngine, yaoming_bgr: npt.NDArray[np.uint8], tmp_path: Path
) -> None:
    blank = np.full((240, 320, 3), 100, np.uint8)
    pipe = Pipeline(
        [BrokenSource("cam", itertools.repeat(blank), fail_after=5)],
        engine,
        yao_gallery(engine, yaoming_bgr, tmp_path),
        [],
    )
    t0 = time.monotonic()
    with pytest.raises(VideoError, match="stream broke"):
        pipe.run()
    assert time.monotonic() - t0 < 10.0


def test_missing_file_is_a_clear_error(engine: FaceEngine, yaoming_bgr: npt.NDArray[np.uint8], tmp_path: Path) -> None:
    pipe = Pipeline([open_source(str(tmp_path / "nope.mp4"))], engine, yao_gallery(engine, yaoming_bgr, tmp_path), [])
    with pytest.raises(VideoError, match="not found"):
        pipe.run()


def test_invalid_wiring(engine: FaceEngine) -> None:
    g = build_gallery(["s"], np.ones((1, 512), np.float32), model_id="other-model")
    with pytest.raises(ConfigError, match="templates are from"):
        Pipeline([ListSource("a", [])], engine, g, [])
    g2 = build_gallery(["s"], np.ones((1, 512), np.float32), model_id=engine.embedder.model_id)
    with pytest.raises(ConfigError, match="unique"):
        Pipeline([ListSource("a", []), ListSource("a", [])], engine, g2, [])
    with pytest.raises(ConfigError):
        Pipeline([ListSource("a", [])], engine, g2, [], config=PipelineConfig(min_votes=4, vote_window=3))


class NormFakeEmbedder(FakeEmbedder):
    """FakeEmbedder that also reports a raw norm: 25 for bright crops (a "real face"), 10 for dark ones."""

    def embed_with_norms(
        self, crops: Sequence[npt.NDArray[np.uint8]]
    ) -> tuple[list[Template], npt.NDArray[np.float32]]:
        norms = np.array([25.0 if float(c.mean()) > 100 else 10.0 for c in crops], np.float32)
        return self.embed(crops), norms


def _two_face_scene() -> tuple[npt.NDArray[np.uint8], FaceDetections]:
    """A bright textured face on the left, a dark one (the 'cartoon') on the right."""
    rng = np.random.default_rng(7)
    img = np.full((240, 480, 3), 128, np.uint8)
    img[40:200, 40:200] = rng.integers(150, 250, (160, 160, 3), dtype=np.uint8)
    img[40:200, 280:440] = rng.integers(0, 60, (160, 160, 3), dtype=np.uint8)
    rel = [(0.3, 0.4), (0.7, 0.4), (0.5, 0.58), (0.35, 0.78), (0.65, 0.78)]
    boxes = [(40.0, 40.0, 200.0, 200.0), (280.0, 40.0, 440.0, 200.0)]
    lms = [[[x1 + u * (x2 - x1), y1 + v * (y2 - y1)] for u, v in rel] for x1, y1, x2, y2 in boxes]
    return img, detections([list(b) for b in boxes], [0.9, 0.9], lms)


@pytest.mark.parametrize("min_recognisability", [20.0, None])
def test_unrecognisable_faces_are_counted_apart_and_never_matched(min_recognisability: float | None) -> None:
    img, dets = _two_face_scene()
    embedder = NormFakeEmbedder()
    engine = FaceEngine(FakeDetector(queue=[dets]), embedder)
    # The watch list holds the dark face: only the recognisability gate stops it from alerting.
    dark = embedder.vector(embedder.align(img, dets.xyxy[1], dets.landmarks5[1]))
    gallery = build_gallery(["subject-dark"], dark[None, :], model_id=embedder.model_id)
    config = PipelineConfig(
        detect_every_n_frames=1, probe_quality=ProbeQualityConfig(min_recognisability=min_recognisability)
    )
    mem = MemorySink()
    n = 20
    counters = Pipeline([ListSource("cam", [img] * n)], engine, gallery, [mem], config=config).run()
    assert counters.probes_rejected == 0
    if min_recognisability is None:
        assert counters.faces_seen == 2 * n
        assert counters.faces_unrecognisable == 0
        assert [a.subject for a in mem.alerts] == ["subject-dark"]
    else:
        # Every frame: the bright face is processed, the dark one is counted apart.
        assert counters.faces_seen == n
        assert counters.faces_unrecognisable == n
        assert counters.alerts == 0
        assert mem.alerts == []
        assert 0 < counters.probes_embedded < n  # only the bright track's probes


def test_embedders_without_norms_are_not_gated() -> None:
    img, dets = _two_face_scene()
    embedder = FakeEmbedder()  # reports no norm: the gate cannot judge, so it lets faces through
    engine = FaceEngine(FakeDetector(queue=[dets]), embedder)
    gallery = build_gallery(["nobody"], np.ones((1, 256), np.float32) / 16.0, model_id=embedder.model_id)
    counters = Pipeline(
        [ListSource("cam", [img] * 10)], engine, gallery, [], config=PipelineConfig(detect_every_n_frames=1)
    ).run()
    assert counters.faces_seen == 20
    assert counters.faces_unrecognisable == 0


class _CountingGallery:
    """Wraps a gallery and counts the probe rows searched against it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self.rows = 0

    def __len__(self) -> int:
        return len(self.inner)

    @property
    def subjects(self) -> tuple[str, ...]:
        return tuple(self.inner.subjects)

    def search(self, probes: npt.NDArray[np.float32], k: int = 1) -> Any:
        self.rows += len(probes)
        return self.inner.search(probes, k)


def test_faces_processed_means_faces_searched_against_the_watch_list() -> None:
    """One definition: the faces a calibration's false-alert rate is per (one gallery search each)."""
    img, dets = _two_face_scene()
    embedder = FakeEmbedder()
    engine = FaceEngine(FakeDetector(queue=[dets]), embedder)
    gallery = _CountingGallery(
        build_gallery(["nobody"], np.ones((1, 256), np.float32) / 16.0, model_id=embedder.model_id)
    )
    counters = Pipeline(
        [ListSource("cam", [img] * 30)], engine, gallery, [], config=PipelineConfig(detect_every_n_frames=1)
    ).run()
    assert gallery.rows > 0
    assert counters.faces_searched == gallery.rows
    assert counters.faces_processed == gallery.rows
    assert counters.as_dict()["faces_processed"] == gallery.rows
    # Not tracks, not every tracked detection: those are other counters.
    assert counters.tracks_started == 2
    assert counters.faces_seen == 60
    assert counters.faces_processed not in (counters.tracks_started, counters.faces_seen)
