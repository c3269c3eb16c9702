"""Shared CLI plumbing: config/engine from the context, JSON or rich output."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from overt.config import OvertConfig, load_config

if TYPE_CHECKING:
    from overt.vision.engine import FaceEngine

JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable JSON instead of a table.")


@dataclass
class CliState:
    """What the top-level callback parsed; commands read it from ``ctx.obj``."""

    config_path: str | None = None
    _config: OvertConfig | None = None
    _engine: FaceEngine | None = field(default=None, repr=False)

    @property
    def config(self) -> OvertConfig:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def engine(self) -> FaceEngine:
        if self._engine is None:
            from overt.config import build_engine

            self._engine = build_engine(self.config.engine)
        return self._engine


def state(ctx: typer.Context) -> CliState:
    obj = ctx.find_root().obj
    if not isinstance(obj, CliState):
        obj = CliState()
        ctx.find_root().obj = obj
    return obj


def out_console() -> Console:
    return Console(file=sys.stdout, soft_wrap=True)


def err_console() -> Console:
    return Console(file=sys.stderr, soft_wrap=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
    sys.stdout.flush()
