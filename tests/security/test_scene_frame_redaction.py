"""Attack: see the bystanders through the alert's scene frame. The frame stored with an alert (and
shown on the console's card) blurs every face but the alerted one, which is boxed; a face that
matches nobody leaves no scene frame, no row and no byte anywhere.

Each scene is read back the way the console gets it: stored by the pipeline's store sink, sealed
under the alert's key, decrypted by ``AlertService.scene``. Two variants: scripted faces and a
pixel embedder (always runs), and real photos of three people with the real detector and ArcFace
(``devdata``; skipped when ../shared/dev-data is absent).
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from overt.alerts import MemorySink
from overt.alerts.review import AlertService, IncomingAlert
from overt.config import PipelineConfig, build_engine
from overt.crypto.keys import MemoryKeyStore
from overt.domain.alerts import Alert
from overt.domain.clock import FakeClock
from overt.domain.detections import FaceDetections
from overt.domain.users import User
from overt.matching import build_gallery
from overt.pipeline import Pipeline
from overt.pipeline.synthetic import face_patches
from overt.store import Database, Store
from overt.store.models import AlertRow, AlertSceneRow
from overt.vision.engine import FaceEngine
from overt.vision.imageio import read_image
from tests.alerts.test_review import _active
from tests.fakes import FakeDetector, FakeEmbedder, detections
from tests.pipeline.fakes import ListSource

CONFIG = PipelineConfig(detect_every_n_frames=1)
FRAMES = 12


class ClockedStoreSink:
    """The store sink of a local pipeline, with the alert's time on the store's (fake) clock."""

    def __init__(self, store: Store, clock: FakeClock, deployment_id: int) -> None:
        self.alerts = AlertService(store)
        self.clock = clock
        self.deployment_id = deployment_id
        self.ids: list[int] = []

    def emit(self, alert: Alert) -> None:
        incoming = dataclasses.replace(IncomingAlert.from_alert(alert), raised_at=self.clock.now())
        self.ids.append(self.alerts.ingest("pipeline", self.deployment_id, incoming, local=True)[0])

    def close(self, timeout_s: float = 5.0) -> None:
        return None


def sqlite_store(tmp_path: Path, clock: FakeClock) -> Store:
    return Store(Database(f"sqlite:///{tmp_path / 'overt.db'}"), MemoryKeyStore(), clock=clock).open()


def files(root: Path) -> dict[str, tuple[int, str]]:
    """Every file's size and hash; SQLite's ``-shm`` read-mark index (no data) by size only."""
    return {
        p.name: (p.stat().st_size, "" if p.name.endswith("-shm") else hashlib.sha256(p.read_bytes()).hexdigest())
        for p in root.rglob("*")
        if p.is_file()
    }


def decode(jpeg: bytes) -> npt.NDArray[np.uint8]:
    return np.asarray(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR), np.uint8)


def iou(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, float(x2 - x1)) * max(0.0, float(y2 - y1))
    area = float((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]))
    return inter / (area - inter)


def similarity(
    engine: FaceEngine, a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8], dets: FaceDetections, i: int
) -> float:
    """The embedder's similarity of face ``i`` of ``dets`` cut from ``a`` and from ``b`` (same place)."""
    crops = [engine.embedder.align(img, dets.xyxy[i], dets.landmarks5[i]) for img in (a, b)]
    ta, tb = engine.embedder.embed(crops)
    return float(ta.vector @ tb.vector)


def detail(region: npt.NDArray[np.uint8]) -> float:
    """Variance of the Laplacian of the grey image: edges (eyes, mouth, texture) make it large."""
    return float(cv2.Laplacian(cv2.cvtColor(region, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def box_is_drawn(scene: npt.NDArray[np.uint8], xyxy: npt.NDArray[np.float32]) -> bool:
    """The alert's red box (BGR 0,0,255) runs along the face's top and left edges."""
    x1, y1, x2, y2 = (round(float(v)) for v in xyxy)
    edges = np.concatenate([scene[y1, x1 + 4 : x2 - 4].reshape(-1, 3), scene[y1 + 4 : y2 - 4, x1].reshape(-1, 3)])
    red = (edges[:, 2] > 160) & (edges[:, 0] < 90) & (edges[:, 1] < 90)
    return float(red.mean()) > 0.8


def stored_scene(sink: ClockedStoreSink, operator: User) -> npt.NDArray[np.uint8]:
    """The one alert's scene frame as the console gets it: unsealed for an operator (audited)."""
    assert len(sink.ids) == 1
    return decode(sink.alerts.scene(operator, sink.ids[0]))


def assert_redacted(
    engine: FaceEngine,
    frame: npt.NDArray[np.uint8],
    scene: npt.NDArray[np.uint8],
    dets: FaceDetections,
    target: int,
    *,
    same_face: float,
) -> None:
    """Face ``target`` of ``dets`` is unchanged and boxed in ``scene``; every other face is gone."""
    assert scene.shape == frame.shape  # the scene frame is the full frame (960 px long side)
    assert box_is_drawn(scene, dets.xyxy[target])
    assert similarity(engine, frame, scene, dets, target) >= same_face
    bystanders = [i for i in range(len(dets)) if i != target]
    assert bystanders
    for i in bystanders:
        # the bystander's face, cut where it was, no longer resembles the bystander
        assert similarity(engine, frame, scene, dets, i) < 0.5
        x1, y1, x2, y2 = (round(float(v)) for v in dets.xyxy[i])
        assert detail(scene[y1:y2, x1:x2]) < 0.1 * detail(frame[y1:y2, x1:x2])  # no edge left, not just shifted


# -- always: scripted faces, pixel embedder ---------------------------------------------------------


def _three_faces() -> tuple[npt.NDArray[np.uint8], FaceDetections]:
    rng = np.random.default_rng(11)
    img = np.full((300, 720, 3), 128, np.uint8)
    boxes = [(40.0, 60.0, 200.0, 220.0), (280.0, 60.0, 440.0, 220.0), (520.0, 60.0, 680.0, 220.0)]
    for x1, y1, x2, y2 in boxes:
        # a face-sized texture JPEG keeps (detail of 10 px) and the redaction must remove
        texture = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
        img[int(y1) : int(y2), int(x1) : int(x2)] = cv2.resize(texture, (160, 160), interpolation=cv2.INTER_CUBIC)
    rel = [(0.3, 0.4), (0.7, 0.4), (0.5, 0.58), (0.35, 0.78), (0.65, 0.78)]
    lms = [[[x1 + u * (x2 - x1), y1 + v * (y2 - y1)] for u, v in rel] for x1, y1, x2, y2 in boxes]
    return img, detections([list(b) for b in boxes], [0.9, 0.9, 0.9], lms)


def _fake_run(
    tmp_path: Path, *, watch: int | None
) -> tuple[Store, ClockedStoreSink, dict[str, User], npt.NDArray[np.uint8], FaceDetections, FaceEngine]:
    clock = FakeClock()
    store = sqlite_store(tmp_path, clock)
    u, dep = _active(store, clock)
    img, dets = _three_faces()
    embedder = FakeEmbedder()
    engine = FaceEngine(FakeDetector(queue=[dets]), embedder)
    if watch is None:  # nobody in the frame is on the watch list
        vector = np.ones(embedder.embedding_size, np.float32) / np.sqrt(embedder.embedding_size)
    else:
        vector = embedder.vector(embedder.align(img, dets.xyxy[watch], dets.landmarks5[watch]))
    gallery = build_gallery(["1"], vector[None, :], model_id=embedder.model_id)
    sink = ClockedStoreSink(store, clock, dep)
    Pipeline([ListSource("cam-1", [img] * FRAMES)], engine, gallery, [sink], config=CONFIG).run()
    return store, sink, u, img, dets, engine


def test_the_stored_scene_blurs_every_bystander_and_boxes_the_alerted_face(tmp_path: Path) -> None:
    store, sink, u, img, dets, engine = _fake_run(tmp_path, watch=1)  # the middle face is wanted
    try:
        scene = stored_scene(sink, u["op"])
        assert_redacted(engine, img, scene, dets, 1, same_face=FakeEmbedder.MIN_SIMILARITY)
    finally:
        store.db.dispose()


def test_no_alert_no_scene_frame_and_no_byte_written(tmp_path: Path) -> None:
    """A face that matches nobody leaves no trace: no alert row, no scene row, no file gains a byte."""
    clock = FakeClock()
    store = sqlite_store(tmp_path, clock)
    try:
        _, dep = _active(store, clock)
        store.db.checkpoint()
        before = files(tmp_path)
        img, dets = _three_faces()
        embedder = FakeEmbedder()
        engine = FaceEngine(FakeDetector(queue=[dets]), embedder)
        nobody = np.ones((1, embedder.embedding_size), np.float32) / np.sqrt(embedder.embedding_size)
        sink, mem = ClockedStoreSink(store, clock, dep), MemorySink()
        counters = Pipeline(
            [ListSource("cam-1", [img] * FRAMES)],
            engine,
            build_gallery(["1"], nobody, model_id=embedder.model_id),
            [sink, mem],
            config=CONFIG,
        ).run()
        assert counters.faces_searched > 0  # the faces were seen and searched...
        assert (counters.alerts, mem.alerts, sink.ids) == (0, [], [])  # ... and matched nobody
        store.db.checkpoint()
        assert files(tmp_path) == before
        with store.db.session() as s:
            assert s.query(AlertRow).count() == 0
            assert s.query(AlertSceneRow).count() == 0
    finally:
        store.db.dispose()


# -- dev data: three real people, the real detector and embedder -------------------------------------


def _portrait(path: Path, engine: FaceEngine, height_px: int) -> npt.NDArray[np.uint8]:
    image = read_image(path)
    patch = face_patches(image, engine.detect(image), margin=0.5)[0]
    scale = height_px / patch.shape[0]
    return np.asarray(cv2.resize(patch, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), np.uint8)


@pytest.mark.devdata
@pytest.mark.slow
def test_real_faces_the_bystanders_are_unrecognisable_in_the_stored_scene(dev_data: Path, tmp_path: Path) -> None:
    engine = build_engine()
    faces = dev_data / "faces" / "deepface"
    # identities.csv: img1 and img2 are one person (id00), img3 (id01) and img8 (id02) two others
    wanted, bystander_a, bystander_b = (_portrait(faces / n, engine, 250) for n in ("img2.jpg", "img3.jpg", "img8.jpg"))
    frame = np.full((540, 960, 3), 140, np.uint8)
    x = 40
    for patch in (bystander_a, wanted, bystander_b):
        h, w = patch.shape[:2]
        frame[140 : 140 + h, x : x + w] = patch
        x += w + 60
    dets = engine.detect(frame)
    assert len(dets) == 3
    watch = read_image(faces / "img1.jpg")
    wd = engine.detect(watch)
    template = engine.embedder.embed([engine.embedder.align(watch, wd.xyxy[0], wd.landmarks5[0])])[0].vector
    gallery = build_gallery(["1"], template[None, :], model_id=engine.embedder.model_id)

    clock = FakeClock()
    store = sqlite_store(tmp_path, clock)
    try:
        u, dep = _active(store, clock, threshold=0.4)
        sink = ClockedStoreSink(store, clock, dep)
        Pipeline([ListSource("cam-1", [frame] * FRAMES)], engine, gallery, [sink], config=CONFIG).run()
        scene = stored_scene(sink, u["op"])
        target = _closest(dets, frame)
        assert_redacted(engine, frame, scene, dets, target, same_face=0.8)
        # the real detector finds only the alerted face in the scene frame
        found = engine.detect(scene)
        assert len(found) == 1
        assert iou(found.xyxy[0], dets.xyxy[target]) > 0.5
    finally:
        store.db.dispose()


def _closest(dets: FaceDetections, frame: npt.NDArray[np.uint8]) -> int:
    """The wanted person stands in the middle of the frame."""
    centres = (dets.xyxy[:, 0] + dets.xyxy[:, 2]) / 2
    return int(np.argmin(np.abs(centres - frame.shape[1] / 2)))
