"""Face embedders behind the :class:`Embedder` protocol."""

from __future__ import annotations

from overt.vision.embedders.base import Embedder

__all__ = ["Embedder"]
