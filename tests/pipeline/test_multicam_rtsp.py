"""Two live cameras over a real RTSP server share one pipeline (issue 14).

rtsp-server-perl carries two mounts, each fed by its own ffmpeg publisher: camera 1 shows the
enrolled face among bystanders, camera 2 only bystanders. Both cameras deliver frames to the
one inference worker, the enrolled face alerts on camera 1 and nothing alerts on camera 2,
with the default pipeline (multi-camera levers on: adaptive cadence, lazy quality crop, one
decoder thread) and with every lever off. Every wait is bounded.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from overt.alerts import MemorySink
from overt.config import PipelineConfig, SourceConfig
from overt.matching.gallery import Gallery
from overt.pipeline import Pipeline
from overt.pipeline.synthetic import SyntheticClip
from overt.sources import LiveSource
from overt.vision.engine import FaceEngine
from tests.pipeline.test_rtsp_reconnect import gallery as gallery  # the enrolled face's gallery (fixture)
from tests.pipeline.test_rtsp_reconnect import unavailable
from tests.sources.servers import RtspCameras, make_h264_clip, missing_rtsp_binaries

pytestmark = [pytest.mark.rtsp, pytest.mark.slow]

SUBJECT = "subject-001"
FPS = 25.0
RTSP_CFG = SourceConfig(rtsp_transport="udp", open_timeout_s=3.0, read_timeout_s=1.5, backoff_initial_s=0.2)
ALERT_S = 35.0  # generous: a loaded CI box; the run takes ~10 s
CONFIGS = {
    "default": (PipelineConfig(), RTSP_CFG),
    "levers off": (
        PipelineConfig(adaptive_detection=False, lazy_quality=False),
        RTSP_CFG.model_copy(update={"decoder_threads": 0}),
    ),
}


@pytest.fixture(scope="module")
def clips(
    tmp_path_factory: pytest.TempPathFactory,
    yao_patch: npt.NDArray[np.uint8],
    gdp_patches: list[npt.NDArray[np.uint8]],
) -> list[Path]:
    """Camera 1: the enrolled face (still) and two bystanders; camera 2: three bystanders."""
    if (why := missing_rtsp_binaries()) is not None:
        unavailable(why)
    root = tmp_path_factory.mktemp("multicam-clips")
    target = SyntheticClip(640, 360, FPS, 4.0, gdp_patches[:2], yao_patch, target_from_s=0.0, bystander_face_px=60)
    others = SyntheticClip(640, 360, FPS, 4.0, gdp_patches[2:5], None, bystander_face_px=60, seed=3)
    return [
        make_h264_clip(list(target.frames()), root / "cam1.mp4", fps=FPS),
        make_h264_clip(list(others.frames()), root / "cam2.mp4", fps=FPS),
    ]


@pytest.mark.timeout(90)
@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_two_rtsp_cameras_both_flow_and_the_face_alerts_on_its_camera(
    config: str, clips: list[Path], engine: FaceEngine, gallery: Gallery, tmp_path: Path
) -> None:
    with RtspCameras(tmp_path, clips) as cams:
        cfg, src_cfg = CONFIGS[config]
        sources = [LiveSource(u, camera_id=f"cam-{i + 1}", config=src_cfg) for i, u in enumerate(cams.urls())]
        sink = MemorySink()
        pipe = Pipeline(sources, engine, gallery, [sink], config=cfg)
        pipe.start()
        try:
            deadline = time.monotonic() + ALERT_S
            while time.monotonic() < deadline and not (
                sink.alerts and all(s.stats().frames_read >= 2 * FPS for s in sources)
            ):
                assert not pipe.wait(0.1), "the pipeline ended early"
            time.sleep(1.0)  # camera 2 had time to alert, were it to
        finally:
            counters = pipe.close()
    read = [s.stats().frames_read for s in sources]
    assert all(n >= 2 * FPS for n in read), (read, counters)
    assert sink.alerts, counters
    assert {(a.camera_id, a.subject) for a in sink.alerts} == {("cam-1", SUBJECT)}
    # Every frame read was processed or counted as dropped (at most a queue's worth per camera left).
    assert counters.frames + counters.frames_dropped >= sum(read) - 2 * 4, (read, counters)
