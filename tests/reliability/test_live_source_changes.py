"""One source's bad change never stops another: repairing a source whose zones lie outside
its frame fails that source alone while the others keep running."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from shigu.pipeline import Pipeline, parse_config

pytestmark = pytest.mark.integration


def test_repairing_a_source_into_bad_zones_fails_only_that_source(
    pets_video: Path, tmp_path: Path
) -> None:
    far = [[2000, 2000], [2100, 2000], [2100, 2100], [2000, 2100]]  # outside any 480x360 frame
    data = {
        "sources": [{"id": "a", "uri": str(pets_video), "loop": True, "realtime": True},
                    {"id": "b", "uri": str(tmp_path / "missing.mp4")}],
        "pipeline": {"detector": {"model": "yolox-nano", "classes": ["person"]}},
        "zones": [{"id": "far", "source": "b", "polygon": far,
                   "rules": [{"type": "intrusion", "min_seconds": 1.0}]}],
        "store": {"url": f"sqlite:///{tmp_path}/e.db", "media_dir": str(tmp_path / "m")},
        "media": {"snapshots": False},
    }  # fmt: skip
    cfg = parse_config(data)
    pipe = Pipeline(cfg)
    runner = threading.Thread(target=pipe.run, daemon=True)
    runner.start()
    try:
        deadline = time.monotonic() + 60
        while pipe.source_status("a").get("frames", 0) < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pipe.source_status("a")["frames"] >= 5
        assert "b" in pipe.errors  # the missing file: b alone failed to open
        fixed = [data["sources"][0], {"id": "b", "uri": str(pets_video)}]
        repaired = parse_config({**data, "sources": fixed})
        pipe.add_source(next(s for s in repaired.sources if s.id == "b"), repaired)
        assert "outside" in pipe.errors["b"]
        before = pipe.source_status("a")["frames"]
        time.sleep(1.5)
        status = pipe.source_status("a")
        assert status["connected"] and status["frames"] > before  # a never stopped
    finally:
        pipe.stop()
        runner.join(30)


def test_a_camera_offline_at_start_is_retried_and_adding_one_freezes_nothing(
    pets_video: Path, tmp_path: Path, port: int
) -> None:
    from tests.servers import mjpeg_server

    cam = f"http://127.0.0.1:{port}/stream.mjpg"
    data = {
        "sources": [{"id": "a", "uri": str(pets_video), "loop": True, "realtime": True},
                    {"id": "cam", "uri": cam}],
        "pipeline": {"detector": {"model": "yolox-nano", "classes": ["person"]}},
        "store": {"url": f"sqlite:///{tmp_path}/e.db", "media_dir": str(tmp_path / "m")},
        "media": {"snapshots": False},
    }  # fmt: skip
    cfg = parse_config(data)
    pipe = Pipeline(cfg)
    runner = threading.Thread(target=pipe.run, kwargs={"keep_running": True}, daemon=True)
    runner.start()
    server = None
    try:
        deadline = time.monotonic() + 60
        while pipe.source_status("a").get("frames", 0) < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        status = pipe.source_status("cam")
        assert not status["connected"] and status["error"] and status["retrying"]
        assert pipe.sources_down() == 1
        server = mjpeg_server(port, pets_video, fps=10).start()  # the camera comes up
        deadline = time.monotonic() + 30
        while pipe.source_status("cam").get("frames", 0) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert pipe.source_status("cam")["frames"] >= 3, pipe.source_status("cam")
        assert "cam" not in pipe.errors and pipe.sources_down() == 0
        assert pipe.source_status("cam")["last_frame_age_s"] < 5
        # adding a camera nobody answers: opened off the engine thread, a keeps running
        unreachable = {"id": "dead", "uri": "rtsp://10.255.255.1/x"}
        dead = parse_config({**data, "sources": [*data["sources"], unreachable]})
        before = pipe.source_status("a")["frames"]
        adder = threading.Thread(
            target=pipe.add_source, args=(next(s for s in dead.sources if s.id == "dead"), dead)
        )
        adder.start()
        time.sleep(2.0)
        assert pipe.source_status("a")["frames"] > before + 5  # not frozen while it tries
        adder.join(30)
        assert pipe.source_status("dead")["error"]
    finally:
        pipe.stop()
        runner.join(30)
        if server is not None:
            server.stop()


def test_a_frozen_camera_is_reported_down_and_back(pets_video: Path, tmp_path: Path,
                                                   port: int) -> None:  # fmt: skip
    """A camera that keeps its connection open but sends nothing (its server stopped) shows
    `connected: false`, `stalled`, in sources_down and the Prometheus gauge; then recovers."""
    import os
    import signal

    from tests.servers import mjpeg_server

    server = mjpeg_server(port, pets_video, fps=10).start()
    data = {
        "sources": [{"id": "cam", "uri": f"http://127.0.0.1:{port}/stream.mjpg"}],
        "pipeline": {"detector": {"model": "yolox-nano", "classes": ["person"]}},
        "store": {"url": f"sqlite:///{tmp_path}/e.db", "media_dir": str(tmp_path / "m")},
        "media": {"snapshots": False},
    }
    pipe = Pipeline(parse_config(data))
    runner = threading.Thread(target=pipe.run, kwargs={"keep_running": True}, daemon=True)
    runner.start()
    assert server.proc is not None
    try:
        deadline = time.monotonic() + 60
        while pipe.source_status("cam").get("frames", 0) < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pipe.source_status("cam")["connected"] and pipe.sources_down() == 0
        os.kill(server.proc.pid, signal.SIGSTOP)  # frozen: the socket stays open, no frames
        deadline = time.monotonic() + 30
        while pipe.source_status("cam").get("connected") and time.monotonic() < deadline:
            time.sleep(0.2)
        status = pipe.source_status("cam")
        assert not status["connected"], status
        assert pipe.sources_down() == 1
        assert "shigu_sources_down 1.0" in pipe.metrics.text()
        os.kill(server.proc.pid, signal.SIGCONT)
        before = pipe.source_status("cam").get("frames", 0)
        deadline = time.monotonic() + 30
        while (
            pipe.source_status("cam").get("frames", 0) <= before + 3
            or not pipe.source_status("cam").get("connected")
        ) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert pipe.source_status("cam")["connected"] and pipe.sources_down() == 0
        assert "shigu_sources_down 0.0" in pipe.metrics.text()
    finally:
        if server.proc is not None:
            os.kill(server.proc.pid, signal.SIGCONT)
        pipe.stop()
        runner.join(30)
        server.stop()
