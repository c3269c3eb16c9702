from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from pydantic import ValidationError

from overt.config import build_engine, load_config
from overt.domain.templates import cosine_similarity
from overt.errors import ModelError
from overt.vision.models import BUILTIN_MODELS, ModelRegistry, ModelSpec, file_sha256

BAD_SHA = "0" * 64


def spec(path: Path, sha: str = BAD_SHA, **kw: object) -> ModelSpec:
    return ModelSpec(id="my_model", kind="embedder", path=path, sha256=sha, embedding_size=512, **kw)


def test_builtins_declare_everything() -> None:
    ids = {s.id for s in BUILTIN_MODELS}
    assert {"scrfd_500m_bnkps", "arcface_w600k_mbf", "dlib_resnet_v1", "dlib_shape_5", "dlib_shape_68"} <= ids
    for s in BUILTIN_MODELS:
        assert s.licence
        assert s.licence != "unknown"
        if s.kind == "embedder":
            assert s.embedding_size
            assert s.default_threshold is not None
            assert s.published_accuracy


def test_builtin_files_verify() -> None:
    reg = ModelRegistry()
    for s in reg:
        if s.format == "onnx":
            assert reg.verified_path(s.id).is_file()


def test_sha_mismatch_names_the_model(tmp_path: Path) -> None:
    f = tmp_path / "model.onnx"
    f.write_bytes(b"not really a model")
    reg = ModelRegistry([spec(f)])
    with pytest.raises(ModelError, match=r"my_model.*sha256 mismatch"):
        reg.verified_path("my_model")
    with pytest.raises(ModelError, match="sha256 mismatch"):
        reg.onnx_session("my_model")


def test_changed_file_is_rechecked(tmp_path: Path) -> None:
    f = tmp_path / "model.onnx"
    f.write_bytes(b"first")
    reg = ModelRegistry([spec(f, file_sha256(f))])
    assert reg.verified_path("my_model") == f
    f.write_bytes(b"second, longer")
    with pytest.raises(ModelError, match="mismatch"):
        reg.verified_path("my_model")


def test_missing_file(tmp_path: Path) -> None:
    reg = ModelRegistry([spec(tmp_path / "nope.onnx")])
    with pytest.raises(ModelError, match="my_model: file not found"):
        reg.verified_path("my_model")


def test_unknown_id() -> None:
    with pytest.raises(ModelError, match=r"unknown model 'nope'.*arcface_w600k_mbf"):
        ModelRegistry().get("nope")


def test_package_not_installed() -> None:
    s = ModelSpec(id="x", kind="detector", package="no-such-dist-overt", resource="a.onnx", sha256=BAD_SHA)
    with pytest.raises(ModelError, match="not installed"):
        ModelRegistry([s]).verified_path("x")


def test_not_onnx() -> None:
    with pytest.raises(ModelError, match="not an ONNX model"):
        ModelRegistry().onnx_session("dlib_shape_5")


def test_unloadable_onnx_is_a_model_error(tmp_path: Path) -> None:
    f = tmp_path / "broken.onnx"
    f.write_bytes(b"\x08\x01garbage")
    with pytest.raises(ModelError, match="cannot load ONNX model"):
        ModelRegistry([spec(f, file_sha256(f))]).onnx_session("my_model")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"path": "/m.onnx", "package": "p", "resource": "r"},  # both locations
        {},  # neither
        {"package": "p"},  # package without resource
        {"path": "/m.onnx", "sha256": "ABC"},  # not a sha256
        {"path": "/m.onnx", "kind": "embedder", "embedding_size": None},
        {"path": "/m.onnx", "id": "Bad Id"},
        {"path": "/m.onnx", "surprise": 1},
    ],
)
def test_spec_validation(kwargs: dict[str, object]) -> None:
    base: dict[str, object] = {"id": "m", "kind": "embedder", "sha256": BAD_SHA, "embedding_size": 512}
    base.update(kwargs)
    with pytest.raises(ValidationError):
        ModelSpec.model_validate(base)


def test_user_registered_onnx_model_end_to_end(tmp_path: Path, yaoming_bgr: npt.NDArray[np.uint8]) -> None:
    builtin = ModelRegistry().verified_path("arcface_w600k_mbf")
    mine = tmp_path / "models" / "my_arcface.onnx"
    mine.parent.mkdir()
    shutil.copyfile(builtin, mine)
    cfg_file = tmp_path / "overt.toml"
    cfg_file.write_text(
        f"""
[[engine.models]]
id = "my_arcface"
kind = "embedder"
path = "{mine}"
sha256 = "{file_sha256(mine)}"
embedding_size = 512
default_threshold = 0.42
licence = "mine"

[engine.embedder]
type = "arcface"
model_id = "my_arcface"
""",
        encoding="utf-8",
    )
    engine = build_engine(load_config(cfg_file).engine)
    assert engine.min_similarity == 0.42
    face = engine.one_face(yaoming_bgr)
    assert face.template is not None
    assert face.template.model_id == "my_arcface"
    ref = build_engine().one_face(yaoming_bgr).template
    assert ref is not None
    np.testing.assert_allclose(face.template.vector, ref.vector, atol=1e-5)
    with pytest.raises(Exception, match="different models"):
        cosine_similarity(face.template, ref)
