"""A GStreamer RTSP server (RTP over UDP *and* TCP), run by the system Python with PyGObject.

Usage: ``/usr/bin/python3 gst_rtsp_server.py PORT`` serves ``rtsp://127.0.0.1:PORT/live``: a live
320x240 test pattern at 25 fps, H.264 with a keyframe every 10 frames. Debian packages:
python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good
gstreamer1.0-plugins-ugly (see scripts/ci-services.sh). Stops on SIGTERM/SIGINT.
"""

from __future__ import annotations

import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

PIPELINE = (
    "( videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=25/1 "
    "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 ! rtph264pay name=pay0 pt=96 config-interval=1 )"
)


def main() -> None:
    port = sys.argv[1]
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(PIPELINE)
    factory.set_shared(True)
    server.get_mount_points().add_factory("/live", factory)
    server.attach(None)
    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print(f"serving rtsp://127.0.0.1:{port}/live", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
