#!/usr/bin/env bash
# Install what the stream tests (pytest -m rtsp, tests/sources/) need. Idempotent: installs only
# what is missing. The tests start and stop their own servers on free local ports; no service
# has to run. Needs root (or sudo) and the Debian apt mirror.
#
#   ffmpeg            publisher (ffmpeg -re -stream_loop -1 ... -f rtsp) and clip encoder (libx264)
#   rtsp-server-perl  a real RTSP server (RTP over UDP only)
#   python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-{base,good,ugly}
#                     GStreamer's RTSP server, run by /usr/bin/python3: RTP over TCP (interleaved) too
set -euo pipefail

need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v rtsp-server-perl >/dev/null 2>&1 || need+=(rtsp-server-perl)
gst_pkgs=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good
    gstreamer1.0-plugins-ugly)
for p in "${gst_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ "${#need[@]}" -eq 0 ]; then
    echo "ci-services: stream test dependencies already installed"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show "${need[@]}" >/dev/null 2>&1; then
    $SUDO apt-get update -q
fi
$SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
# The rtsp-server-perl package enables a unit on ports 554/5545; the tests do not use it. Stop
# it where an init system started it (harmless when there is none).
$SUDO service rtsp-server-perl stop >/dev/null 2>&1 || true
command -v ffmpeg >/dev/null
command -v rtsp-server-perl >/dev/null
/usr/bin/python3 -c "import gi; gi.require_version('GstRtspServer', '1.0')"
echo "ci-services: installed ${need[*]}"
