"""The README lists every exit code the CLI can return."""

from __future__ import annotations

import re
from pathlib import Path

from overt import errors

README = Path(__file__).resolve().parents[2] / "README.md"
OUTSIDE_THE_ERROR_TREE = {0, 70, 74, 130}  # success, internal error, OS I/O error, interrupted (cli/app.py)


def _codes() -> set[int]:
    out = set(OUTSIDE_THE_ERROR_TREE)
    for obj in vars(errors).values():
        if isinstance(obj, type) and issubclass(obj, errors.OvertError):
            out.add(obj.exit_code)
    return out


def test_readme_lists_every_exit_code() -> None:
    text = README.read_text()
    table = text[text.index("### Exit codes") :]
    listed = {int(m) for m in re.findall(r"^\| (\d+) \|", table, flags=re.MULTILINE)}
    assert _codes() <= listed, sorted(_codes() - listed)
