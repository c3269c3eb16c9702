"""Face embedders behind the :class:`Embedder` protocol."""

from __future__ import annotations

from overt.vision.embedders.base import Embedder, ReportsFeatureNorms, embed_with_norms

__all__ = ["Embedder", "ReportsFeatureNorms", "embed_with_norms"]
