"""Frames in: video files, RTSP/HTTP streams, webcams and image folders behind ``FrameSource``."""

from __future__ import annotations

from overt.sources.base import FrameSource, SourceStats

__all__ = ["FrameSource", "SourceStats"]
