"""Video evaluation scoring against a fake live system (the adapter point)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from overt.errors import InputError, VideoError
from overt.evaluation.identify import EmbeddedImage
from overt.evaluation.video import VideoAlert, VideoRun, evaluate_videos, read_manifest


def _manifest(tmp_path: Path) -> Path:
    m = tmp_path / "manifest.csv"
    m.write_text(
        "video,subject,stills\n"
        "a.mp4,s1,s1a.jpg;s1b.jpg\n"
        "a.mp4,s2,s2.jpg\n"
        "b.mp4,,\n"
        "c.mp4,s1,\n"
        "broken.mp4,,\n"
        ",s3,s3.jpg\n"
        ",s4,s4.jpg\n",
        encoding="utf-8",
    )
    return m


def _embed(path: Path) -> EmbeddedImage:
    if path.name == "s4.jpg":
        return EmbeddedImage(None, None, "no face")
    v = np.zeros(4, np.float32)
    v[hash(path.name) % 4] = 1.0
    return EmbeddedImage(v)


class FakeRunner:
    """Pretends to be the pipeline: a fixed script of alerts per video."""

    def __init__(self, script: dict[str, list[str]]) -> None:
        self.script = script
        self.galleries: list[tuple[str, ...]] = []

    def __call__(self, video: Path, subjects: Sequence[str], templates: npt.NDArray[np.float32]) -> VideoRun:
        self.galleries.append(tuple(subjects))
        assert templates.shape == (len(subjects), 4)
        if video.name == "broken.mp4":
            raise VideoError("cannot open broken.mp4")
        alerts = tuple(VideoAlert(s, 0.6, 1.0, k) for k, s in enumerate(self.script.get(video.name, [])))
        return VideoRun(alerts=alerts, faces_processed=100, frames=50, probes_embedded=10)


def test_read_manifest(tmp_path: Path) -> None:
    man = read_manifest(_manifest(tmp_path))
    assert [v.video.name for v in man.videos] == ["a.mp4", "b.mp4", "c.mp4", "broken.mp4"]
    assert man.videos[0].subjects == ("s1", "s2")
    assert man.videos[1].subjects == ()
    assert [p.name for p in man.stills["s1"]] == ["s1a.jpg", "s1b.jpg"]
    assert set(man.stills) == {"s1", "s2", "s3", "s4"}


def test_bad_manifest(tmp_path: Path) -> None:
    m = tmp_path / "m.csv"
    m.write_text("video,who\nx.mp4,a\n", encoding="utf-8")
    with pytest.raises(InputError, match="columns"):
        read_manifest(m)
    m.write_text("video,subject,stills\nx.mp4,a,\n", encoding="utf-8")
    with pytest.raises(InputError, match="no enrolment stills"):
        read_manifest(m)


def test_true_missed_false_alerts(tmp_path: Path) -> None:
    man = read_manifest(_manifest(tmp_path))
    runner = FakeRunner({"a.mp4": ["s1", "s3", "s3"], "b.mp4": ["s2"], "c.mp4": []})
    ev = evaluate_videos(man, _embed, runner, runner_name="fake")
    assert runner.galleries[0] == ("s1", "s1", "s2", "s3")  # s4's still has no face
    assert ev.subjects_without_template == ("s4",)
    assert [p.name for p in ev.stills_without_face] == ["s4.jpg"]
    a, b, c, broken = ev.outcomes
    assert a.true_alerts == ("s1",)
    assert a.missed == ("s2",)
    assert a.false_alert_subjects == ("s3",)
    assert a.false_alerts == 2
    assert b.false_alerts == 1
    assert b.expected == ()
    assert c.missed == ("s1",)
    assert broken.error is not None
    assert "broken" in broken.error
    t = ev.totals()
    assert t["appearances"] == 3
    assert t["detected_appearances"] == 1
    assert t["false_alerts"] == 3
    assert t["faces_processed"] == 300
    assert t["videos_failed"] == 1
    assert t["false_alerts_per_1000_faces"] == pytest.approx(10.0)
    js = ev.to_json(tmp_path)
    assert js["videos"][0]["video"] == "a.mp4"  # type: ignore[index]
