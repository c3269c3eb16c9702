"""Camera groups in worker processes (``overt run --workers N``, issue 14).

Two real worker processes each run their own group of cameras with their own engine: the
enrolled face alerts on both cameras, under the one-process camera ids, every frame of both
is counted, and the processes are not the test's own.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from overt.alerts import MemorySink
from overt.config import EngineConfig, PipelineConfig
from overt.errors import ConfigError
from overt.pipeline.counters import Counters
from overt.pipeline.synthetic import SyntheticClip
from overt.pipeline.workers import ProcessPipeline, camera_groups, merge_counters, worker_threads
from overt.vision.engine import FaceEngine
from overt.watchlist import enrol_folder
from tests.pipeline.conftest import altered, write_watchlist


def test_camera_groups_round_robin() -> None:
    assert camera_groups(5, 2) == [[0, 2, 4], [1, 3]]
    assert camera_groups(1, 4) == [[0]]
    with pytest.raises(ConfigError):
        camera_groups(2, 0)


def test_worker_threads_share_the_cores() -> None:
    """Each worker's ONNX Runtime and OpenCV get cores / workers threads (never 0), not one per core each."""
    assert worker_threads(2, cpus=2) == 1
    assert worker_threads(4, cpus=2) == 1
    assert worker_threads(2, cpus=8) == 4
    assert worker_threads(1, cpus=2) == 2


def test_merge_counters_sums_workers() -> None:
    a = Counters(1.0, 10, 1, 5, 1, 0, 2, 2, 0, 0, 1, 10.0, 100.0, 200.0, 1, 1)
    b = Counters(2.0, 20, 0, 7, 2, 1, 3, 3, 1, 0, 0, 20.0, None, None, 2, 0)
    m = merge_counters([a, b])
    assert (m.frames, m.faces_searched, m.alerts, m.cameras, m.elapsed_s, m.fps) == (30, 5, 1, 3, 2.0, 30.0)
    assert m.alert_latency_ms_p95 == 200.0
    assert merge_counters([]).frames == 0


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_two_workers_each_process_their_cameras(
    engine: FaceEngine, yaoming_bgr: npt.NDArray[np.uint8], yao_patch: npt.NDArray[np.uint8], tmp_path: Path
) -> None:
    clip = SyntheticClip(640, 360, 10, 2.0, [], yao_patch, target_from_s=0.0, target_face_px=(80, 100))
    path = str(clip.write(tmp_path / "clip.mp4"))
    gallery = enrol_folder(write_watchlist(tmp_path / "wl", "subject-001", altered(yaoming_bgr)), engine)
    sink = MemorySink()
    pipe = ProcessPipeline(
        [path, path], gallery.watchlist.gallery(), [sink], workers=2, engine_config=EngineConfig(),
        config=PipelineConfig(workers=2),
    )  # fmt: skip
    assert pipe.workers == 2
    pipe.start()
    assert pipe.wait(90), "the workers did not finish their files"
    counters = pipe.close()
    assert len(set(pipe.pids.values())) == 2
    assert os.getpid() not in pipe.pids.values()
    per_worker = pipe.worker_counters()
    assert sorted(per_worker) == [0, 1]
    assert all(c.frames == clip.frame_count and c.cameras == 1 for c in per_worker.values())
    assert counters.frames == 2 * clip.frame_count
    assert sorted(a.camera_id for a in sink.alerts) == ["cam-1", "cam-2"]
    assert {a.subject for a in sink.alerts} == {"subject-001"}
    assert counters.alerts == 2


def test_a_workers_preview_is_throttled_and_dropped_when_the_parent_is_behind() -> None:
    """The preview tap never waits: at most one thumbnail per interval, and a full queue drops it."""
    import queue as q

    from overt.pipeline.workers import _PreviewTap

    previews: q.Queue[tuple[str, bytes]] = q.Queue(maxsize=1)
    tap = _PreviewTap(previews, "cam-1", every_s=3600.0, longer_side_px=64)
    frame = np.full((360, 640, 3), 90, np.uint8)
    for _ in range(5):
        tap.write(frame)
    camera_id, jpeg = previews.get_nowait()
    assert (camera_id, tap.frames, tap.dropped) == ("cam-1", 5, 0)  # one per interval
    assert jpeg.startswith(b"\xff\xd8")
    fast = _PreviewTap(previews, "cam-1", every_s=1e-9, longer_side_px=64)
    for _ in range(3):
        fast.write(frame)
    assert previews.qsize() == 1
    assert fast.dropped == 2  # the parent did not keep up: dropped, never waited for


def test_previewed_cameras_are_chosen_before_the_start() -> None:
    from overt.matching.gallery import ExactGallery

    gallery = ExactGallery(["1"], np.ones((1, 4), np.float32), model_id="m")
    p = ProcessPipeline(["a.mp4", "b.mp4", "c.mp4"], gallery, [], workers=2)
    p.preview(["cam-2", "cam-9"], lambda camera_id, jpeg: None)
    assert [j.preview for j in p._jobs] == [(), ("cam-2",)]  # cam-2 runs in the second worker
    with pytest.raises(ConfigError):
        p.preview(["cam-1"], lambda camera_id, jpeg: None, every_s=0)
