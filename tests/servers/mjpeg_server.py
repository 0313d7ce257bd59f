"""An HTTP MJPEG camera for tests: ``python mjpeg_server.py PORT VIDEO [FPS]``.

Serves ``/stream.mjpg`` as multipart/x-mixed-replace JPEG frames of VIDEO in a loop, paced
at FPS like an IP camera, and ``/files/<name>`` statically from the video's folder. Prints
``ready`` once listening.
"""

import http.server
import sys
import time
from pathlib import Path

import av
import cv2

port, video = int(sys.argv[1]), Path(sys.argv[2])
fps = float(sys.argv[3]) if len(sys.argv) > 3 else 10.0
with av.open(str(video)) as container:
    JPEGS = [
        cv2.imencode(".jpg", f.to_ndarray(format="bgr24"))[1].tobytes()
        for _, f in zip(range(200), container.decode(video=0), strict=False)
    ]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/files/"):
            path = video.parent / self.path[len("/files/") :]
            if not path.is_file():
                self.send_error(404)
                return
            data = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if self.path != "/stream.mjpg":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        i = 0
        try:
            while True:
                jpg = JPEGS[i % len(JPEGS)]
                self.wfile.write(
                    b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                    + str(len(jpg)).encode()
                    + b"\r\n\r\n"
                    + jpg
                    + b"\r\n"
                )
                i += 1
                time.sleep(1 / fps)
        except (BrokenPipeError, ConnectionResetError):
            return


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
print("ready", flush=True)
server.serve_forever()
