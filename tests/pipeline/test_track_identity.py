"""Tracks that stay one person (dev data; skipped when ../shared/dev-data is absent).

Two talking heads, both on the watch list, one after the other on one camera:

- with a hard cut between them (the frames as they are, resized to one size), every track ends
  at the cut: the two alerts are on different tracks and the second one's first-seen time is
  after the cut;
- with no cut at all (each face cut out and pasted at the same place on the same background,
  so the tracker joins the boxes), the track is split when the new face's template matches none
  of the track's recent ones; with the split turned off, the second person's alert lands on the
  first person's track, first seen before that person appeared (the bug this guards against).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from overt.alerts import MemorySink
from overt.config import PipelineConfig
from overt.domain.alerts import Alert
from overt.pipeline import Pipeline
from overt.vision.engine import FaceEngine
from overt.watchlist import enrol_folder
from tests.pipeline.fakes import ListSource, video_frames

pytestmark = [pytest.mark.devdata, pytest.mark.slow]

Image = npt.NDArray[np.uint8]
CLIPS = ("d0", "d9")
PER_CLIP = 50
FPS = 25.0
SIZE = (640, 360)


def _clip(dev_data: Path, name: str) -> list[Image]:
    frames = []
    for img in video_frames(dev_data / "videos" / "talking_heads" / f"{name}.mp4"):
        frames.append(np.ascontiguousarray(cv2.resize(img, SIZE, interpolation=cv2.INTER_AREA), np.uint8))
        if len(frames) == PER_CLIP:
            break
    return frames


def _pasted(engine: FaceEngine, frames: list[Image]) -> list[Image]:
    """Each frame's face, 220 px around its box, pasted at the same place on a grey canvas."""
    out = []
    box = None
    for img in frames:
        dets = engine.detect(img)
        if len(dets):
            x1, y1, x2, y2 = dets.xyxy[0]
            cx, cy, side = (x1 + x2) / 2, (y1 + y2) / 2, max(x2 - x1, y2 - y1) * 1.6
            box = (cx - side / 2, cy - side / 2, side)
        assert box is not None
        bx, by, side = box
        m = np.array([[220 / side, 0, -bx * 220 / side], [0, 220 / side, -by * 220 / side]], np.float32)
        patch = cv2.warpAffine(img, m, (220, 220), borderValue=(127, 127, 127))
        canvas = np.full((SIZE[1], SIZE[0], 3), 127, np.uint8)
        canvas[70:290, 210:430] = patch
        out.append(canvas)
    return out


@pytest.fixture(scope="module")
def setup(
    engine: FaceEngine, dev_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[object, dict[str, list[Image]]]:
    root = tmp_path_factory.mktemp("watchlist")
    clips = {name: _clip(dev_data, name) for name in CLIPS}
    for name, frames in clips.items():
        (root / f"subject-{name}").mkdir()
        cv2.imwrite(str(root / f"subject-{name}" / "frame0.png"), frames[0])
    report = enrol_folder(root, engine)
    assert len(report.accepted) == len(CLIPS)
    return report.watchlist.gallery(), clips


def _run(engine: FaceEngine, gallery: object, frames: list[Image], config: PipelineConfig) -> MemorySink:
    mem = MemorySink()
    Pipeline([ListSource("cam", frames, fps=FPS)], engine, gallery, [mem], config=config).run()  # type: ignore[arg-type]
    return mem


def _first_alerts(mem: MemorySink) -> tuple[Alert, Alert]:
    """The first alert of each clip's subject, in clip order."""
    first: dict[str, Alert] = {}
    for alert in sorted(mem.alerts, key=lambda a: a.frame_index):
        first.setdefault(alert.subject, alert)
    assert set(first) == {f"subject-{n}" for n in CLIPS}
    return first[f"subject-{CLIPS[0]}"], first[f"subject-{CLIPS[1]}"]


def test_cut_ends_the_track(engine: FaceEngine, setup: tuple[object, dict[str, list[Image]]]) -> None:
    gallery, clips = setup
    frames = [f for name in CLIPS for f in clips[name]]
    mem = _run(engine, gallery, frames, PipelineConfig(detect_every_n_frames=1, split_tracks_on_identity_change=False))
    a, b = _first_alerts(mem)
    assert a.track_id != b.track_id
    assert a.first_seen_pts_s < PER_CLIP / FPS <= b.first_seen_pts_s


@pytest.mark.parametrize("split", [True, False])
def test_identity_change_without_cut_splits_the_track(
    engine: FaceEngine, setup: tuple[object, dict[str, list[Image]]], split: bool
) -> None:
    gallery, clips = setup
    frames = [f for name in CLIPS for f in _pasted(engine, clips[name])]
    cfg = PipelineConfig(detect_every_n_frames=1, end_tracks_at_shot_cuts=False, split_tracks_on_identity_change=split)
    mem = _run(engine, gallery, frames, cfg)
    a, b = _first_alerts(mem)
    if split:
        assert a.track_id != b.track_id
        assert b.first_seen_pts_s >= PER_CLIP / FPS
    else:
        assert a.track_id == b.track_id
        assert b.first_seen_pts_s < PER_CLIP / FPS
