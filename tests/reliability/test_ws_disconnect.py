"""A closed events WebSocket ends its handler even when no event comes: before, each closed
tab kept a handler and a hub subscription alive, and `shigu serve` then took 20+ s to stop."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port
from tests.servers.shigu_serve import ShiguServer, add_user, site_config

pytestmark = [pytest.mark.integration, pytest.mark.slow]
PASSWORD = "ws-pass-12345"


def test_server_stops_promptly_after_clients_left(tmp_path: Path) -> None:
    import websockets

    path = site_config(tmp_path)
    add_user(path, "u", "viewer", PASSWORD)
    server = ShiguServer(path, free_port(), "--no-engine").wait()
    url, port = server.url, int(server.url.rsplit(":", 1)[1])
    try:
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
    finally:
        seconds = server.stop(timeout=30)
    assert seconds < 5.0
