"""Shared fixtures: sample images from installed packages, and the optional dev data."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from overt.samples import sample_image
from overt.vision.imageio import read_image

REPO_ROOT = Path(__file__).resolve().parents[1]


def dev_data_dir() -> Path | None:
    """``$OVERT_DEV_DATA``, else ``../shared/dev-data`` beside the repository (CI has it)."""
    candidates = [
        os.environ.get("OVERT_DEV_DATA"),
        REPO_ROOT.parent / "shared" / "dev-data",
        Path("/work/shared/dev-data"),
    ]
    for c in candidates:
        if c and (Path(c) / "README.md").is_file():
            return Path(c)
    return None


@pytest.fixture(scope="session")
def dev_data() -> Path:
    """Root of ../shared/dev-data; skips the test when it is absent (a user's fresh clone)."""
    d = dev_data_dir()
    if d is None:
        pytest.skip("../shared/dev-data is absent (set OVERT_DEV_DATA to run dev-data tests)")
    return d


@pytest.fixture(scope="session")
def yaoming_bgr() -> npt.NDArray[np.uint8]:
    return read_image(sample_image("yaoming"))


@pytest.fixture(scope="session")
def gdp_bgr() -> npt.NDArray[np.uint8]:
    return read_image(sample_image("gdp"))


@pytest.fixture(scope="session")
def players_bgr() -> npt.NDArray[np.uint8]:
    return read_image(sample_image("players"))


pytest_plugins = ["tests.postgres_fixture", "tests.store_fixtures"]
