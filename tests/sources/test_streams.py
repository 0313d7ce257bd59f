"""Streams against real servers on loopback, including the server dying and coming back."""

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from shigu.sources import open_source
from tests.servers import gst_rtsp_available, mjpeg_server, rtsp_server

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _read_through_outage(
    uri: str, server, frames_wanted: int, kill_after_s: float, down_s: float
) -> tuple[list, object]:
    src = open_source(
        uri, read_timeout_s=3, open_timeout_s=5, backoff_initial_s=0.2, backoff_max_s=1.0
    )
    assert src.info.live
    got = []
    started = time.monotonic()

    def outage() -> None:
        time.sleep(kill_after_s)
        server.stop()
        time.sleep(down_s)
        server.start()

    thread = threading.Thread(target=outage, daemon=True)
    thread.start()
    try:
        for frame in src:
            got.append((frame.index, frame.timestamp, time.monotonic() - started))
            if len(got) >= frames_wanted:
                break
            assert time.monotonic() - started < 60, "stream did not resume"
    finally:
        src.close()
        thread.join(timeout=30)
    return got, src.stats


@pytest.mark.skipif(
    not gst_rtsp_available(),
    reason="GStreamer RTSP server (Debian "
    "gir1.2-gst-rtsp-server-1.0, python3-gi) not installed; run make system-deps",
)
def test_rtsp_reads_and_reconnects_after_server_restart(pets_video: Path, port: int) -> None:
    server = rtsp_server(port, pets_video).start()
    try:
        got, stats = _read_through_outage(
            f"rtsp://127.0.0.1:{port}/cam", server, 70, kill_after_s=3.0, down_s=2.0
        )
    finally:
        server.stop()
    assert stats.reconnects >= 1
    indices = [g[0] for g in got]
    assert indices == list(range(len(indices)))  # no gaps or repeats in numbering
    stamps = np.array([g[1] for g in got])
    assert (np.diff(stamps) > 0).all()  # monotonic across the reconnect
    gap = np.diff([g[2] for g in got]).max()
    assert gap >= 1.5  # the outage was real


def test_http_mjpeg_camera_reconnects(pets_video: Path, port: int) -> None:
    server = mjpeg_server(port, pets_video, fps=20).start()
    try:
        got, stats = _read_through_outage(
            f"http://127.0.0.1:{port}/stream.mjpg", server, 80, kill_after_s=2.0, down_s=2.0
        )
    finally:
        server.stop()
    assert stats.reconnects >= 1
    assert [g[0] for g in got] == list(range(len(got)))
    assert (np.diff([g[1] for g in got]) > 0).all()


def test_http_video_file_reads_to_the_end(pets_video: Path, port: int) -> None:
    server = mjpeg_server(port, pets_video).start()
    try:
        src = open_source(f"http://127.0.0.1:{port}/files/{pets_video.name}")
        assert not src.info.live and src.info.frame_count == 795
        frames = list(src)
    finally:
        server.stop()
    assert len(frames) == 795
    assert frames[-1].timestamp == pytest.approx(79.4)


def test_stream_that_never_comes_back_gives_up(pets_video: Path, port: int) -> None:
    server = mjpeg_server(port, pets_video, fps=20).start()
    src = open_source(
        f"http://127.0.0.1:{port}/stream.mjpg",
        read_timeout_s=2,
        max_reconnect_s=3,
        backoff_initial_s=0.2,
        backoff_max_s=0.5,
    )
    from shigu.core import SourceError

    started = time.monotonic()
    with pytest.raises(SourceError, match="could not reconnect"):
        for n, _ in enumerate(src):
            if n == 5:
                server.stop()
    assert time.monotonic() - started < 20
