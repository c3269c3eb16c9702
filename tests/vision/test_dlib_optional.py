"""The dlib backend is optional: overt imports without it and says how to install it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from overt.config import DlibDetectorConfig, DlibEmbedderConfig, EngineConfig, build_engine
from overt.errors import BackendUnavailableError
from overt.samples import sample_image
from tests.cli.conftest import one_line_error, run


def test_overt_never_imports_dlib_on_its_own() -> None:
    code = (
        "import sys; import overt.cli.app, overt.vision.engine, overt.config; "
        "import overt.vision.detectors.dlib_hog, overt.vision.embedders.dlib_resnet; "
        "sys.exit('dlib' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.fixture
def no_dlib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dlib", None)  # makes `import dlib` raise ImportError


@pytest.mark.usefixtures("no_dlib")
@pytest.mark.parametrize(
    "cfg",
    [EngineConfig(detector=DlibDetectorConfig()), EngineConfig(embedder=DlibEmbedderConfig())],
    ids=["detector", "embedder"],
)
def test_missing_dlib_says_how_to_install(cfg: EngineConfig) -> None:
    with pytest.raises(BackendUnavailableError, match=r"pip install 'overt\[dlib\]'"):
        build_engine(cfg)


@pytest.mark.usefixtures("no_dlib")
def test_missing_dlib_in_the_cli(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cfg = tmp_path / "dlib.toml"
    cfg.write_text('[engine.detector]\ntype = "dlib_hog"\n', encoding="utf-8")
    code, _, err = run(capsys, "--config", str(cfg), "faces", str(sample_image("yaoming")))
    assert code == 4
    assert "overt[dlib]" in one_line_error(err)
