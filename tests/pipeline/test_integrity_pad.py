"""Stream-integrity flags, the presentation-attack stage and signing on the live pipeline's alerts."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from overt.alerts import MemorySink
from overt.alerts.evidence import check_evidence
from overt.config import PipelineConfig
from overt.crypto.signing import SigningKey
from overt.pipeline import Pipeline
from overt.pipeline.synthetic import SyntheticClip
from overt.vision.engine import FaceEngine
from tests.pipeline.fakes import ListSource
from tests.pipeline.test_runner import yao_gallery
from tests.vision.pad_models import constant_pad


@pytest.fixture(scope="module")
def clip_frames(
    yao_patch: npt.NDArray[np.uint8], gdp_patches: list[npt.NDArray[np.uint8]]
) -> list[npt.NDArray[np.uint8]]:
    clip = SyntheticClip(
        640, 360, 12.5, 2.5, gdp_patches[:1], yao_patch, bystander_face_px=70, target_face_px=(90, 110)
    )
    return list(clip.frames())


def _run(
    engine: FaceEngine,
    gallery: object,
    frames: list[npt.NDArray[np.uint8]],
    config: PipelineConfig | None = None,
    **kw: object,
) -> tuple[MemorySink, Pipeline]:
    mem = MemorySink()
    pipe = Pipeline([ListSource("cam-1", frames, fps=12.5)], engine, gallery, [mem], config=config, **kw)  # type: ignore[arg-type]
    pipe.run()
    return mem, pipe


def test_alert_raised_while_the_camera_is_suspect_carries_its_flags_and_is_signed(
    engine: FaceEngine,
    yaoming_bgr: npt.NDArray[np.uint8],
    clip_frames: list[npt.NDArray[np.uint8]],
    tmp_path: Path,
) -> None:
    gallery = yao_gallery(engine, yaoming_bgr, tmp_path)
    still = [clip_frames[0].copy()] * 50  # 4 s of one frozen, empty frame first
    key = SigningKey(os.urandom(32))
    mem, pipe = _run(engine, gallery, still + clip_frames, signer=key, snapshot_id="deployment:7")
    assert mem.alerts, "no alert"
    alert = mem.alerts[0]
    assert "frozen" in alert.integrity_flags
    status = {s.camera_id: s for s in pipe.integrity()}["cam-1"]
    assert status.to_json()["counters"]["frozen"] == 1  # type: ignore[index]
    assert alert.evidence is not None
    check = check_evidence(alert.evidence, alert.probe_crop_jpeg, alert.context_jpeg, trusted_public_key=key.public_key)
    assert check.ok
    assert check.record is not None
    assert check.record["integrity_flags"] == ["frozen"]
    assert check.record["snapshot_id"] == "deployment:7"

    clean, _ = _run(engine, gallery, clip_frames)
    assert clean.alerts
    assert clean.alerts[0].integrity_flags == ()
    assert clean.alerts[0].evidence is None


def test_pad_flags_or_suppresses_attacks(
    engine: FaceEngine,
    yaoming_bgr: npt.NDArray[np.uint8],
    clip_frames: list[npt.NDArray[np.uint8]],
    tmp_path: Path,
) -> None:
    gallery = yao_gallery(engine, yaoming_bgr, tmp_path)
    attack = PipelineConfig(pad=constant_pad(tmp_path / "attack.onnx", 0.1))
    mem, pipe = _run(engine, gallery, clip_frames, attack)
    assert mem.alerts
    assert mem.alerts[0].pad is not None
    assert not mem.alerts[0].pad.live
    assert mem.alerts[0].pad.score == pytest.approx(0.1, abs=1e-4)

    suppress = PipelineConfig(pad=attack.pad.model_copy(update={"policy": "suppress"}))
    mem, pipe = _run(engine, gallery, clip_frames, suppress)
    assert mem.alerts == []
    assert pipe.counters().pad_suppressed >= 1

    live = PipelineConfig(pad=constant_pad(tmp_path / "live.onnx", 0.9, policy="suppress"))
    mem, _ = _run(engine, gallery, clip_frames, live)
    assert mem.alerts
    assert mem.alerts[0].pad is not None
    assert mem.alerts[0].pad.live
