#!/usr/bin/env bash
# Install what the stream tests (pytest -m rtsp, tests/sources/) need: ffmpeg (publisher, clip
# encoder with libx264) and Debian's rtsp-server-perl (a real RTSP server). Idempotent: does
# nothing when both binaries are present. The tests start and stop their own server processes
# on free local ports; no service has to run. Needs root (or sudo) and the Debian apt mirror.
set -euo pipefail

need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v rtsp-server-perl >/dev/null 2>&1 || need+=(rtsp-server-perl)
if [ "${#need[@]}" -eq 0 ]; then
    echo "ci-services: ffmpeg and rtsp-server-perl already installed"
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
# The package enables a systemd unit on port 554/5545; the tests do not use it. Stop it where
# an init system runs it, so it holds no ports (harmless when there is none).
$SUDO service rtsp-server-perl stop >/dev/null 2>&1 || true
command -v ffmpeg >/dev/null
command -v rtsp-server-perl >/dev/null
echo "ci-services: installed ${need[*]}"
