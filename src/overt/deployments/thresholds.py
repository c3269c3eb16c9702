"""One threshold story: per model, one documented live alert threshold.

The live pipeline alerts when probes of a track reach ``min_similarity``; the value measured for
each model on the dev-data talking-head clips is :data:`overt.matching.decider.DEFAULT_MIN_SIMILARITY`
(0.40 for the default ``arcface_w600k_mbf``; BENCHMARKS.md). ``overt deployment create`` without
``--min-similarity`` or ``--profile`` uses it (and says so), the console pre-fills it, and the
README states it. A calibration profile (``overt calibrate``) replaces it for a given watch list.
"""

from __future__ import annotations

from dataclasses import dataclass

from overt.config import ArcFaceEmbedderConfig
from overt.matching.decider import DEFAULT_MIN_SIMILARITY


@dataclass(frozen=True, slots=True)
class LiveThreshold:
    model_id: str
    min_similarity: float
    justification: str


def live_threshold(model_id: str | None = None) -> LiveThreshold:
    """The documented live threshold of ``model_id`` (default: the configured embedder's model)."""
    model = model_id or ArcFaceEmbedderConfig().model_id  # the default embedder
    value = DEFAULT_MIN_SIMILARITY.get(model)
    if value is None:
        from overt.errors import InputError

        raise InputError(f"model {model} has no documented live threshold: calibrate one (overt calibrate)")
    return LiveThreshold(
        model,
        value,
        f"the documented live threshold of {model} ({value:.2f}, measured on talking-head clips; README, Thresholds)",
    )
