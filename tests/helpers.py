"""Helpers tests share: synthetic videos made with PyAV, small HTTP servers."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import av
import numpy as np


def moving_square_frames(n: int = 60, size: tuple[int, int] = (160, 120)) -> Iterator[np.ndarray]:
    """BGR frames of a white square sliding right over a dark gradient."""
    w, h = size
    rng = np.random.default_rng(0)
    base = np.tile(np.linspace(20, 80, w, dtype=np.uint8), (h, 1))
    for i in range(n):
        noise = rng.integers(0, 40, (h, w, 3), dtype=np.uint8)  # realistic bitrate
        img = np.dstack([base, base, base]) + noise
        x = 5 + (i * 2) % (w - 30)
        img[40:70, x : x + 25] = 255
        yield img


def write_video(
    path: Path,
    n: int = 60,
    fps: int = 25,
    size: tuple[int, int] = (160, 120),
    faststart: bool = True,
    codec: str = "libx264",
) -> Path:
    """Encode a synthetic clip; ``faststart=False`` leaves the MP4 index at the end."""
    options = {"movflags": "+faststart"} if faststart and path.suffix == ".mp4" else {}
    with av.open(str(path), "w", options=options) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for img in moving_square_frames(n, size):
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def truncate(path: Path, fraction: float, out: Path) -> Path:
    data = path.read_bytes()
    out.write_bytes(data[: int(len(data) * fraction)])
    return out


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with HTTP Range support, optional connection drops and corruption.

    Class attributes set per server: ``drop_after`` (bytes sent before the connection is cut
    on the first request of each path), ``corrupt`` (names served with flipped bytes).
    """

    drop_after: int | None = None
    corrupt: frozenset[str] = frozenset()
    requests: list[tuple[str, str | None]] = []
    _dropped: set[str] = set()

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        type(self).requests.append((self.path, self.headers.get("Range")))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        if path.name in self.corrupt:
            data = bytes(b ^ 0xFF for b in data[:64]) + data[64:]
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            start = int(rng[len("bytes=") :].split("-")[0] or 0)
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        limit = self.drop_after
        if limit is not None and self.path not in self._dropped:
            type(self)._dropped.add(self.path)
            self.wfile.write(body[:limit])
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        self.wfile.write(body)


@contextmanager
def serve_folder(
    folder: Path, port: int, drop_after: int | None = None, corrupt: frozenset[str] = frozenset()
) -> Iterator[type[RangeHandler]]:
    """Serve ``folder`` on 127.0.0.1:``port`` in a thread; yields the handler class."""
    handler = type(
        "Handler",
        (RangeHandler,),
        {"drop_after": drop_after, "corrupt": corrupt, "requests": [], "_dropped": set()},
    )

    def factory(*args: object, **kwargs: object) -> RangeHandler:
        return handler(*args, directory=str(folder), **kwargs)  # type: ignore[arg-type]

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), factory)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()


def own_postgres_database(postgres_url: str, name: str) -> str:
    """A database of its own on the session's server: the shared one is counted by others."""
    from sqlalchemy import create_engine, text

    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return postgres_url.rsplit("/", 1)[0] + "/" + name


def idle_video(src: Path, out: Path, active: int = 50, frozen: int = 250,
               max_frames: int | None = None) -> Path:  # fmt: skip
    """A mostly idle stream from real footage: after every ``active`` frames of ``src`` the
    last one is held for ``frozen`` frames (a scene where nothing moves), H.264 at src's rate."""
    with av.open(str(src)) as inp:
        vs = inp.streams.video[0]
        rate = vs.average_rate or 25
        with av.open(str(out), "w") as container:
            stream = container.add_stream("libx264", rate=rate)
            stream.width, stream.height = vs.codec_context.width, vs.codec_context.height
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": "18"}
            written = 0
            for i, frame in enumerate(inp.decode(vs)):
                image = frame.to_ndarray(format="bgr24")
                copies = 1 + (frozen if (i + 1) % active == 0 else 0)
                for _ in range(copies):
                    vf = av.VideoFrame.from_ndarray(image, format="bgr24")
                    for packet in stream.encode(vf):
                        container.mux(packet)
                    written += 1
                if max_frames is not None and written >= max_frames:
                    break
            for packet in stream.encode(None):
                container.mux(packet)
    return out


def pets_gate_config(tmp: Path, video: Path, motion: dict, name: str) -> dict:
    """The PETS lawn scene (an intrusion zone, two counting lines, SQLite events, no
    snapshots) with the given ``pipeline.motion``: the motion-gate test's and benchmark's."""
    return {
        "sources": [{"id": "gate", "uri": str(video)}],
        "pipeline": {"detector": {"classes": ["person"]}, "motion": motion},
        "zones": [{"id": "lawn", "source": "gate",
                   "polygon": [[200, 150], [330, 150], [330, 300], [200, 300]],
                   "rules": [{"type": "intrusion", "min_seconds": 1.0}]}],
        "lines": [{"id": "east", "source": "gate", "points": [[330, 80], [330, 340]]},
                  {"id": "west", "source": "gate", "points": [[150, 80], [150, 340]]}],
        "store": {"url": f"sqlite:///{tmp}/{name}.db", "media_dir": str(tmp / name)},
        "media": {"snapshots": False},
    }  # fmt: skip


def canvas_video(src: Path, out: Path, size: tuple[int, int] = (1920, 1080),
                 at: tuple[int, int] = (1300, 600), max_frames: int = 120) -> Path:  # fmt: skip
    """A wide view where people are far away: ``src``'s frames pasted at ``at`` on a still
    grey canvas of ``size`` (the rest of the view does not move), H.264 at src's rate."""
    w, h = size
    with av.open(str(src)) as inp:
        vs = inp.streams.video[0]
        with av.open(str(out), "w") as container:
            stream = container.add_stream("libx264", rate=vs.average_rate or 25)
            stream.width, stream.height = w, h
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": "18", "preset": "veryfast"}
            canvas = np.full((h, w, 3), 110, np.uint8)
            for i, frame in enumerate(inp.decode(vs)):
                if i >= max_frames:
                    break
                image = frame.to_ndarray(format="bgr24")
                canvas[at[1] : at[1] + image.shape[0], at[0] : at[0] + image.shape[1]] = image
                vf = av.VideoFrame.from_ndarray(canvas, format="bgr24")
                for packet in stream.encode(vf):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
    return out


def face_pictures(data_dir: Path, out: Path) -> list[Path]:
    """Pictures of GMDCSA24's subject 1 (frames of fall clips 13 and 14) in which YuNet finds
    a face big enough to enrol: the enrolment set of the known-faces tests."""
    import cv2

    from shigu.detect import load_detector
    from shigu.solutions.living.faces import MIN_FACE_PX, largest_face

    detector = load_detector("yunet-face", conf=0.8)
    out.mkdir(parents=True, exist_ok=True)
    pictures = []
    for clip in ("13", "14"):
        with av.open(
            str(data_dir / "fall" / "gmdcsa24" / "Subject_1" / "Fall" / f"{clip}.mp4")
        ) as c:
            for i, frame in enumerate(c.decode(video=0)):
                if i % 10 or i >= 60:
                    continue
                image = frame.to_ndarray(format="bgr24")
                face = largest_face(detector.detect(image))
                if len(face) and face.xyxy[0, 2] - face.xyxy[0, 0] >= MIN_FACE_PX:
                    path = out / f"subject1_{clip}_{i:03d}.jpg"
                    cv2.imwrite(str(path), image)
                    pictures.append(path)
    return pictures
