"""The layers hold (import-linter, contracts in pyproject.toml), and the contracts do catch a break."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(src: Path) -> subprocess.CompletedProcess[str]:
    if not LINT_IMPORTS.exists():
        pytest.skip("import-linter is not installed (dev extra)")
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        cwd=src.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_layers_hold() -> None:
    r = _lint(ROOT / "src")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("vision/align.py", "import overt.config", "vision imports no config"),
        ("store/vault.py", "import overt.deployments.service", "the store imports no service"),
        ("domain/frames.py", "import overt.crypto", "domain imports nothing of ours but errors"),
        ("deployments/service.py", "import overt.api.app", "import no adapter"),
        ("cli/alert_cmd.py", "import overt.api.routes.alerts", "the CLI imports no other adapter"),
        ("api/routes/alerts.py", "import overt.cli.alert_cmd", "never import the CLI"),
        ("api/routes/alerts.py", "import overt.web.pages", "the API imports it only to mount it"),
    ],
)
def test_a_break_is_caught(tmp_path: Path, module: str, line: str, contract: str) -> None:
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "overt", src / "overt", ignore=shutil.ignore_patterns("__pycache__"))
    target = src / "overt" / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    r = _lint(src)
    assert r.returncode != 0
    assert contract in " ".join(r.stdout.split()), r.stdout
