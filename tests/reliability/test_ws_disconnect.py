"""A closed events WebSocket ends its handler even when no event comes: before, each closed
tab kept a handler and a hub subscription alive, and `shigu serve` then took 20+ s to stop."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]
PASSWORD = "ws-pass-12345"


def test_server_stops_promptly_after_clients_left(tmp_path: Path) -> None:
    import websockets

    config = {
        "sources": [{"id": "none", "uri": str(tmp_path / "none.mp4")}],
        "pipeline": {"detector": {"model": "yolox-nano", "classes": ["person"]}},
        "store": {"url": f"sqlite:///{tmp_path / 's.db'}", "media_dir": str(tmp_path / "m")},
    }
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(config))
    shigu = [sys.executable, "-m", "shigu"]
    made = subprocess.run(
        [
            *shigu,
            "users",
            "add",
            "u",
            "--role",
            "viewer",
            "--config",
            str(path),
            "--password",
            PASSWORD,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [*shigu, "serve", str(path), "--port", str(port), "--no-engine"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(url + "/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        login = httpx.post(
            url + "/api/auth/login",
            json={"username": "u", "password": PASSWORD},
            headers={"X-Requested-With": "shigu"},
        )
        assert login.status_code == 200, login.text
        cookie = "; ".join(f"{k}={v}" for k, v in login.cookies.items())

        async def open_and_leave() -> None:
            for _ in range(3):
                async with websockets.connect(
                    f"ws://127.0.0.1:{port}/api/ws/events", additional_headers={"Cookie": cookie}
                ):
                    await asyncio.sleep(0.3)

        asyncio.run(open_and_leave())
        time.sleep(1.0)
        proc.terminate()
        started = time.monotonic()
        proc.wait(timeout=30)
        assert time.monotonic() - started < 5.0
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
