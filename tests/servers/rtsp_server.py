"""A real RTSP server for tests: GStreamer's gst-rtsp-server serving a video file.

Run with Debian's Python (it has the GObject bindings): ``/usr/bin/python3 rtsp_server.py
PORT /mount VIDEO``. Prints ``ready`` when it accepts connections. The H.264 in the file is
sent as is (no re-encoding), paced in real time like a camera.
"""

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

Gst.init(None)
port, mount, path = sys.argv[1], sys.argv[2], sys.argv[3]
demux = "avidemux" if path.lower().endswith(".avi") else "qtdemux"
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(
    f"( filesrc location={path} ! {demux} ! h264parse config-interval=-1 ! "
    "rtph264pay name=pay0 pt=96 config-interval=1 )"
)
factory.set_shared(True)
server.get_mount_points().add_factory(mount, factory)
if server.attach(None) == 0:
    print("failed to bind", flush=True)
    sys.exit(1)
print("ready", flush=True)
GLib.MainLoop().run()
