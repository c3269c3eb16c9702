from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from overt.config import (
    ArcFaceEmbedderConfig,
    DlibDetectorConfig,
    DlibEmbedderConfig,
    EngineConfig,
    OvertConfig,
    ScrfdDetectorConfig,
    load_config,
)
from overt.errors import ConfigError


def test_defaults() -> None:
    cfg = OvertConfig()
    assert isinstance(cfg.engine.detector, ScrfdDetectorConfig)
    assert isinstance(cfg.engine.embedder, ArcFaceEmbedderConfig)
    assert cfg.engine.min_similarity is None


def test_discriminated_union_picks_by_type() -> None:
    cfg = OvertConfig.model_validate(
        {"engine": {"detector": {"type": "dlib_hog", "upsample": 2}, "embedder": {"type": "dlib_resnet", "jitters": 1}}}
    )
    assert isinstance(cfg.engine.detector, DlibDetectorConfig)
    assert cfg.engine.detector.upsample == 2
    assert isinstance(cfg.engine.embedder, DlibEmbedderConfig)
    assert cfg.engine.embedder.jitters == 1


@pytest.mark.parametrize(
    "data",
    [
        {"engine": {"surprise": 1}},
        {"surprise": {}},
        {"engine": {"detector": {"type": "scrfd", "upsample": 1}}},  # a dlib field on scrfd
        {"engine": {"detector": {"type": "dlib_hog", "input_size_px": 640}}},  # and the reverse
        {"engine": {"detector": {"type": "mtcnn"}}},
        {"engine": {"embedder": {"type": "arcface", "max_batch": 0}}},
        {"engine": {"detector": {"score_threshold": 1.5}}},
        {"engine": {"min_similarity": 2}},
        {"engine": {"models": [{"id": "x", "kind": "embedder", "path": "/m.onnx", "sha256": "0" * 64}]}},
    ],
)
def test_rejected(data: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        OvertConfig.model_validate(data)


def test_frozen() -> None:
    cfg = EngineConfig()
    with pytest.raises(ValidationError):
        cfg.threads = 3  # type: ignore[misc]


def test_load_config_file(tmp_path: Path) -> None:
    p = tmp_path / "o.toml"
    p.write_text('[engine]\nthreads = 2\n[engine.detector]\ntype = "scrfd"\ninput_size_px = 320\n', encoding="utf-8")
    cfg = load_config(p)
    assert cfg.engine.threads == 2
    assert isinstance(cfg.engine.detector, ScrfdDetectorConfig)
    assert cfg.engine.detector.input_size_px == 320


def test_load_config_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "o.toml"
    p.write_text("[engine]\nthreads = 3\n", encoding="utf-8")
    monkeypatch.setenv("OVERT_CONFIG", str(p))
    assert load_config().engine.threads == 3
    monkeypatch.delenv("OVERT_CONFIG")
    assert load_config().engine.threads == 0


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[engine\n", "o.toml"),
        (b"\xff\xfe", "o.toml"),
        ("[engine]\nextra = 1\n", r"engine\.extra: Extra inputs are not permitted \(1 error"),
    ],
)
def test_load_config_errors(tmp_path: Path, text: str | bytes, match: str) -> None:
    p = tmp_path / "o.toml"
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=match):
        load_config(p)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")
