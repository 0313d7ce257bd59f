"""Real servers the tests start on loopback (RTSP, HTTP MJPEG) and helpers to run them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
SYSTEM_PYTHON = "/usr/bin/python3"


def gst_rtsp_available() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    probe = subprocess.run(
        [
            SYSTEM_PYTHON,
            "-c",
            "import gi; gi.require_version('GstRtspServer',"
            " '1.0'); from gi.repository import GstRtspServer",
        ],
        capture_output=True,
    )
    return probe.returncode == 0


class ServerProcess:
    """A server subprocess that prints ``ready``; restartable, killed on ``stop``."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> ServerProcess:
        self.proc = subprocess.Popen(
            self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            err = self.proc.stderr.read() if self.proc.stderr else ""
            self.stop()
            raise RuntimeError(f"server {self.argv} did not start: {line} {err[-500:]}")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


def rtsp_server(port: int, video: Path, mount: str = "/cam") -> ServerProcess:
    return ServerProcess(
        [SYSTEM_PYTHON, str(HERE / "rtsp_server.py"), str(port), mount, str(video)]
    )


def mjpeg_server(port: int, video: Path, fps: float = 10.0) -> ServerProcess:
    return ServerProcess(
        [sys.executable, str(HERE / "mjpeg_server.py"), str(port), str(video), str(fps)]
    )


def have(cmd: str) -> bool:
    return shutil.which(cmd) is not None
