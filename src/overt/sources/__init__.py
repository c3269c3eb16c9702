"""Frames in: video files, RTSP/HTTP streams, webcams and image folders behind ``FrameSource``.

``open_source(uri)`` picks the implementation (see :mod:`overt.sources.factory`)::

    rtsp://cam/s  rtsps://...  http(s)://cam/mjpeg   LiveSource  (reader thread, drop-oldest)
    webcam:0  or  0                                  LiveSource  (device index)
    a directory                                      ImageFolderSource (natural name order)
    anything else                                    FileSource  (every frame; realtime=True paces)

How failures end up (never a hang, never a dead reader thread):

- file missing, empty, not a video, no decodable frame: ``VideoError`` from ``start()``;
- file truncated or corrupt part-way: every decodable frame, then ``exhausted`` with
  ``last_error`` "decoded N of M frames: truncated or corrupt";
- unreadable image in a folder: skipped, ``frames_skipped`` counted, ``last_error`` names it;
- live stream refused, silent, stalled, ended, broken mid-stream, bad TLS certificate: the
  error goes to ``last_error``, ``connected`` turns False, the reader reopens it after an
  exponential backoff with jitter (``reconnects`` counts attempts), forever unless
  ``SourceConfig.give_up_after_s``; corrupt frames are skipped and counted;
- slow consumer: the oldest buffered frames are dropped and counted in ``frames_dropped``.

Credentials in URIs never reach a log, an error or a camera id (:func:`redact_uri`).
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
