"""The live pipeline: sources -> detect -> track -> quality -> embed -> match -> decide -> alerts."""

from __future__ import annotations

from overt.pipeline.counters import Counters
from overt.pipeline.runner import Pipeline

__all__ = ["Counters", "Pipeline"]
