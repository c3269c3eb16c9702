"""Face detectors behind the :class:`Detector` protocol."""

from __future__ import annotations

from overt.vision.detectors.base import Detector

__all__ = ["Detector"]
