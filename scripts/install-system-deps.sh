#!/usr/bin/env bash
# Debian packages the test suite needs: real servers and a real browser.
#   GStreamer RTSP server (python3-gi + gir1.2-gst-rtsp-server-1.0 + plugins) - stream tests
#   PostgreSQL - event store tests;  Mosquitto - MQTT tests;  Chromium - dashboard tests
#   DejaVu + WenQuanYi Micro Hei fonts - OCR tests render Latin and Chinese text
#   libusb-1.0-0 - Open3D (3D registration and inspection) links against it
#   Blender - the avatar tests import our BVH files with Blender's own importer
# Installs only what is missing; uses sudo when not root.
set -euo pipefail
PACKAGES=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good
          gstreamer1.0-plugins-bad postgresql mosquitto chromium
          fonts-dejavu-core fonts-wqy-microhei libusb-1.0-0 blender)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
