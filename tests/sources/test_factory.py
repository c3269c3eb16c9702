"""open_source picks the source by URI and never leaks credentials into ids or messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from overt.config import OvertConfig, SourceConfig
from overt.errors import VideoError
from overt.sources import FileSource, ImageFolderSource, LiveSource, open_source, redact_uri


@pytest.mark.parametrize(
    "uri",
    [
        "rtsp://10.0.0.5:554/stream1",
        "RTSPS://cam.example:322/live",
        "http://127.0.0.1:8080/video.mjpg",
        "https://cam.example/mjpeg",
        "webcam:0",
        "2",
    ],
)
def test_live_uris(uri: str) -> None:
    src = open_source(uri)
    assert isinstance(src, LiveSource)
    assert src.live is True
    assert src.camera_id == "cam-1"


def test_webcam_index() -> None:
    src = open_source("webcam:3", camera_id="door")
    assert isinstance(src, LiveSource)
    assert src.display_uri == "webcam:3"
    assert src.camera_id == "door"


def test_folder_and_file(tmp_path: Path) -> None:
    assert isinstance(open_source(str(tmp_path)), ImageFolderSource)
    src = open_source(str(tmp_path / "clip.mp4"), realtime=True, camera_id="cam-3")
    assert isinstance(src, FileSource)
    assert src.realtime
    assert src.camera_id == "cam-3"
    assert isinstance(open_source(f"file://{tmp_path / 'clip.mp4'}"), FileSource)


def test_prefetch_from_config(tmp_path: Path) -> None:
    src = open_source(str(tmp_path / "x.mp4"), config=SourceConfig(prefetch_frames=3))
    assert isinstance(src, FileSource)
    assert src._queue.maxsize == 3


def test_bad_uris() -> None:
    with pytest.raises(VideoError, match="unsupported source scheme ftp"):
        open_source("ftp://user:pw@host/x.mp4")
    with pytest.raises(VideoError, match="empty"):
        open_source("  ")
    with pytest.raises(VideoError, match="camera id"):
        open_source("webcam:0", camera_id="")


def test_credentials_never_shown() -> None:
    uri = "rtsp://admin:hunter2@10.0.0.5:554/stream1?token=abc123"
    src = open_source(uri)
    assert isinstance(src, LiveSource)
    for text in (src.display_uri, repr(src), src.camera_id):
        assert "hunter2" not in text
        assert "admin" not in text
        assert "abc123" not in text
    assert redact_uri(uri) == "rtsp://***@10.0.0.5:554/stream1?token=***"
    assert redact_uri("rtsp://10.0.0.5/s") == "rtsp://10.0.0.5/s"
    assert "pw" not in redact_uri("weird://user:pw@")


def test_source_config_is_strict_and_in_overt_config() -> None:
    assert OvertConfig().sources == SourceConfig()
    with pytest.raises(ValueError, match="extra"):
        SourceConfig.model_validate({"bogus": 1})
    with pytest.raises(ValueError, match="rtsp_transport"):
        SourceConfig.model_validate({"rtsp_transport": "http"})
    assert SourceConfig.model_validate({"rtsp_transport": "udp", "buffer_frames": 1}).rtsp_transport == "udp"
