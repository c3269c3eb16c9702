"""``open_source``: one URI in, the right :class:`FrameSource` out."""

from __future__ import annotations

import re
from pathlib import Path

from overt.config import SourceConfig
from overt.errors import VideoError
from overt.sources.base import FrameSource
from overt.sources.file import FileSource
from overt.sources.folder import ImageFolderSource
from overt.sources.live import LiveSource

DEFAULT_CAMERA_ID = "cam-1"
"""Camera id used when none is given: a neutral label, never derived from the URI."""

_STREAM_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://")
_WEBCAM = re.compile(r"^(?:webcam:)?(\d+)$", re.IGNORECASE)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def open_source(
    uri: str,
    *,
    camera_id: str | None = None,
    realtime: bool = False,
    config: SourceConfig | None = None,
) -> FrameSource:
    """The source for ``uri`` (not started: call ``start()``, or use it as a context manager).

    - ``rtsp://``, ``rtsps://``, ``http://``, ``https://``: :class:`LiveSource` (reader thread,
      drop-oldest, reconnect); HTTP is meant for MJPEG cameras (multipart/x-mixed-replace).
    - ``webcam:N`` or a bare integer ``N``: :class:`LiveSource` on webcam device ``N``.
    - an existing directory: :class:`ImageFolderSource` (images in name order).
    - anything else: a video file, :class:`FileSource` (every frame; ``realtime`` paces it).

    ``camera_id`` defaults to ``"cam-1"``; it is never derived from the URI, which may hold
    credentials. Unknown schemes (``ftp://``...) raise ``VideoError``.
    """
    cfg = config or SourceConfig()
    cam = camera_id if camera_id is not None else DEFAULT_CAMERA_ID
    if not cam:
        raise VideoError("camera id must not be empty")
    text = uri.strip()
    if not text:
        raise VideoError("source URI is empty")
    lowered = text.lower()
    if lowered.startswith(_STREAM_SCHEMES):
        return LiveSource(text, camera_id=cam, config=cfg)
    webcam = _WEBCAM.match(text)
    if webcam:
        return LiveSource(int(webcam.group(1)), camera_id=cam, config=cfg)
    if lowered.startswith("file://"):
        text = text[len("file://") :]
    elif _SCHEME.match(text):
        scheme = text.split("://", 1)[0]
        raise VideoError(f"unsupported source scheme {scheme}:// (use rtsp, rtsps, http, https, webcam:N or a path)")
    path = Path(text).expanduser()
    if path.is_dir():
        return ImageFolderSource(path, camera_id=cam, realtime=realtime)
    return FileSource(path, camera_id=cam, realtime=realtime, prefetch_frames=cfg.prefetch_frames)
