"""Packaging hygiene: the licence is an SPDX expression, so building prints no setuptools deprecation."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_license_is_an_spdx_expression() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"
    assert not any(c.startswith("License ::") for c in project.get("classifiers", []))


@pytest.mark.slow
def test_building_the_wheel_prints_no_deprecation_warning(tmp_path: Path) -> None:
    """Builds a wheel of the project's metadata (a copy with the package's __init__ only: fast)."""
    proj = tmp_path / "proj"
    (proj / "src" / "overt").mkdir(parents=True)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, proj / name)
    for name in ("__init__.py", "py.typed"):
        shutil.copy(ROOT / "src" / "overt" / name, proj / "src" / "overt" / name)
    out = tmp_path / "wheels"
    r = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", str(out), str(proj)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    log = r.stdout + r.stderr
    if r.returncode != 0 and "No matching distribution" in log:
        pytest.skip("no package index to fetch the build backend from")
    assert r.returncode == 0, log[-3000:]
    assert "deprecat" not in log.lower(), [ln for ln in log.splitlines() if "deprecat" in ln.lower()]
    (wheel,) = out.glob("overt-*.whl")
    with zipfile.ZipFile(wheel) as z:
        meta = z.read(next(n for n in z.namelist() if n.endswith("METADATA"))).decode()
    assert "License-Expression: Apache-2.0" in meta
