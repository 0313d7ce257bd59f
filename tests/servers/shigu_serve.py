"""`shigu serve` as a real subprocess on loopback, with its users: one way to start it for the
browser, shutdown and live tests."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml

SHIGU = [sys.executable, "-m", "shigu"]


def site_config(tmp: Path, **extra: Any) -> Path:
    """A config whose single source need not exist (for `serve --no-engine`)."""
    config: dict[str, Any] = {
        "sources": [{"id": "none", "uri": str(tmp / "none.mp4")}],
        "pipeline": {"detector": {"model": "yolox-nano", "classes": ["person"]}},
        "store": {"url": f"sqlite:///{tmp / 'shigu.db'}", "media_dir": str(tmp / "media")},
        **extra,
    }
    path = tmp / "site.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def add_user(config: Path, name: str, role: str, password: str) -> None:
    made = subprocess.run(
        [*SHIGU, "users", "add", name, "--role", role, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "SHIGU_PASSWORD": password},
    )
    assert made.returncode == 0, made.stderr


class ShiguServer:
    """`shigu serve CONFIG --port P EXTRA...`, its output in ``serve.log`` beside CONFIG."""

    def __init__(self, config: Path, port: int, *extra: str) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = config.parent / "serve.log"
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [*SHIGU, "serve", str(config), "--port", str(port), *extra],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait(self, ready: Callable[[dict[str, Any]], bool] = lambda _: True) -> ShiguServer:
        """Until /healthz answers (and ``ready`` holds for its JSON), at most 60 s."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if ready(httpx.get(self.url + "/healthz", timeout=1).json()):
                    return self
            except httpx.HTTPError:
                pass
            assert self.proc.poll() is None, self.log_path.read_text()
            time.sleep(0.3)
        raise AssertionError(f"shigu serve not ready: {self.log_path.read_text()[-2000:]}")

    def stop(self, timeout: float = 30) -> float:
        """SIGTERM, then wait; the seconds it took (killed when over ``timeout``)."""
        started = time.monotonic()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                raise
            finally:
                self._log.close()
        return time.monotonic() - started
