"""Frames in: video files, RTSP/HTTP streams, webcams and image folders behind ``FrameSource``.

``open_source(uri)`` picks the implementation; see :mod:`overt.sources.factory`.
"""

from __future__ import annotations

from overt.config import SourceConfig
from overt.sources._uri import redact_uri
from overt.sources.base import FrameSource, SourceStats
from overt.sources.factory import DEFAULT_CAMERA_ID, open_source
from overt.sources.file import FileSource
from overt.sources.folder import ImageFolderSource
from overt.sources.live import LiveSource

__all__ = [
    "DEFAULT_CAMERA_ID",
    "FileSource",
    "FrameSource",
    "ImageFolderSource",
    "LiveSource",
    "SourceConfig",
    "SourceStats",
    "open_source",
    "redact_uri",
]
