"""THE privacy test: people who match no one leave no trace in anything the run wrote.

A clip of the 23 faces of players.jpg runs against a watch list holding one unrelated face
(scikit-image's astronaut). Afterwards the templates and aligned crops of every face in the
clip are recomputed, in every encoding the pipeline could have used (raw float32/float16
vectors, raw crop pixels, JPEG, base64 of each), and searched for in every file the run
wrote and in the captured logs. Nothing may be found, no alert may exist, and the annotated
video must show no detectable face.
"""

from __future__ import annotations

import base64
import logging
import sys
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from overt.alerts import JsonlSink, StreamSink
from overt.pipeline import Pipeline
from overt.pipeline.redact import encode_jpeg
from overt.pipeline.synthetic import SyntheticClip
from overt.sources import open_source
from overt.vision.engine import FaceEngine
from overt.watchlist import enrol_folder
from tests.pipeline.conftest import write_watchlist
from tests.pipeline.fakes import video_frames


def needles_for(engine: FaceEngine, frames: list[npt.NDArray[np.uint8]]) -> tuple[list[bytes], int]:
    """Byte strings that would betray a probe: its template or crop in any plausible encoding."""
    out: list[bytes] = []
    faces = 0
    for img in frames:
        dets = engine.detector.detect(img, score_threshold=0.3)
        crops = [engine.embedder.align(img, dets.xyxy[i], dets.landmarks5[i]) for i in range(len(dets))]
        for crop, tpl in zip(crops, engine.embedder.embed(crops), strict=True):
            faces += 1
            vec = tpl.vector
            for raw in (vec.tobytes(), vec.astype(np.float16).tobytes(), vec.astype(np.float64).tobytes()):
                out.append(raw[:32])
                out.append(base64.b64encode(raw)[:44])
            text = ",".join(f"{v:.4f}" for v in vec[:6])
            out.append(text.encode())
            out.append(crop[40:72].tobytes()[:96])  # raw aligned pixels of the eye region
            jpeg = encode_jpeg(crop)
            out.append(jpeg[-200:-100])
            out.append(base64.b64encode(jpeg)[-200:-100])
    return out, faces


def test_nobody_on_the_watch_list_leaves_no_trace(
    engine: FaceEngine,
    players_patches: list[npt.NDArray[np.uint8]],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    skimage_data = pytest.importorskip("skimage.data")
    astronaut = cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR)
    watchlist = write_watchlist(tmp_path / "watchlist", "subject-astro", np.ascontiguousarray(astronaut))
    report = enrol_folder(watchlist, engine)
    assert len(report.accepted) == 1

    clip = SyntheticClip(1280, 720, 10, 1.5, players_patches, None, bystander_face_px=64)
    clip_path = clip.write(tmp_path / "input" / "players.mp4")

    data = tmp_path / "data"
    sink = JsonlSink(data / "alerts.jsonl")
    caplog.set_level(logging.DEBUG)
    pipe = Pipeline(
        [open_source(str(clip_path), camera_id="cam-1")],
        engine,
        report.watchlist.gallery(),
        [sink, StreamSink(sys.stdout)],
        annotate={"cam-1": data / "annotated.mp4"},
    )
    counters = pipe.run()
    sink.close()
    printed = capsys.readouterr()

    assert counters.alerts == 0
    assert counters.tracks_started >= 15  # the faces were there and were seen...
    assert counters.faces_seen >= 15 * clip.frame_count // 2
    assert counters.probes_embedded >= 15  # ... and embedded, then dropped
    written = sorted(p for p in data.rglob("*") if p.is_file())
    assert [p.name for p in written] == ["alerts.jsonl", "annotated.mp4"]
    assert (data / "alerts.jsonl").read_bytes() == b""

    frames = list(video_frames(clip_path))
    needles, n_faces = needles_for(engine, frames)
    assert n_faces >= 15 * len(frames)
    haystacks = {p.name: p.read_bytes() for p in written}
    haystacks["log"] = caplog.text.encode()
    haystacks["stdout"] = printed.out.encode()
    haystacks["stderr"] = printed.err.encode()
    for name, hay in haystacks.items():
        for needle in needles:
            assert needle not in hay, f"a probe's template or crop was found in {name}"

    # The annotated video is redacted: no face is detectable in any frame.
    annotated = list(video_frames(data / "annotated.mp4"))
    assert len(annotated) == len(frames)
    assert sum(len(engine.detector.detect(img)) for img in annotated) == 0
