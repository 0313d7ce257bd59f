"""The API on a running engine: live sources, zones that take effect at once, MJPEG, WebSocket."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shigu.pipeline import parse_config
from tests.server.conftest import make_config

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def live(tmp_path: Path, pets_video: Path) -> Iterator[tuple[TestClient, object]]:
    from shigu.server.app import build_context, create_app

    data = make_config(tmp_path, pets_video)
    data["sources"] = [{"id": "gate", "uri": str(pets_video), "realtime": True, "loop": True}]
    data["zones"] = []
    ctx = build_context(parse_config(data))
    ctx.accounts.add_user("admin", "correct-horse-1", "admin")
    token = ctx.accounts.create_token("admin", "tests")[1]
    ctx.host.start()
    ctx.host.wait_started()
    client = TestClient(create_app(ctx))
    client.headers["Authorization"] = f"Bearer {token}"
    client.token = token  # type: ignore[attr-defined]
    yield client, ctx
    ctx.host.stop()
    ctx.store.close()


def _wait(cond: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_sources_run_and_change_live(live: tuple[TestClient, Any], data_dir: Path) -> None:
    client, ctx = live
    _wait(lambda: client.get("/api/sources/gate").json()["frames"] > 5)
    first = client.get("/api/sources/gate").json()
    assert first["connected"] and first["width"] == 480
    traffic = str(data_dir / "video" / "car_traffic_small.mp4")
    r = client.post("/api/sources", json={"id": "road", "uri": traffic, "realtime": True})
    assert r.status_code == 201, r.text
    _wait(lambda: client.get("/api/sources/road").json()["frames"] > 5)
    assert client.get("/api/sources/gate").json()["frames"] > first["frames"]  # kept going
    assert client.post("/api/sources", json={"id": "road", "uri": traffic}).status_code == 422
    # a source that cannot be opened answers with its error and is not added...
    bad = client.post("/api/sources", json={"id": "ghost", "uri": "/no/such/file.mp4"})
    assert bad.status_code == 422, bad.text
    assert "could not be opened" in bad.json()["detail"] and "offline_ok" in bad.json()["detail"]
    assert client.get("/api/sources/ghost").status_code == 404
    moved = client.put("/api/sources/road", json={"id": "road", "uri": "/no/such/file.mp4"})
    assert moved.status_code == 422 and client.get("/api/sources/road").json()["uri"] == traffic
    # ...unless the admin says it is down for now: saved, its error shown, retried
    ctx.source_hosts.add("127.0.0.1")  # as `shigu serve --source-host 127.0.0.1`
    down = {"id": "ghost", "uri": "rtsp://127.0.0.1:1/x", "offline_ok": True}
    assert client.post("/api/sources", json=down).status_code == 201
    ghost = client.get("/api/sources/ghost").json()
    assert ghost["error"] and not ghost["connected"] and "offline_ok" not in ghost
    assert client.delete("/api/sources/road").status_code == 204
    assert client.get("/api/sources/road").status_code == 404
    before = client.get("/api/sources/gate").json()["frames"]
    _wait(lambda: client.get("/api/sources/gate").json()["frames"] > before)


def test_live_frames_mjpeg_and_metrics(live: tuple[TestClient, object]) -> None:
    client, _ = live
    frame = client.get("/api/sources/gate/frame.jpg")
    assert frame.status_code == 200 and frame.content[:2] == b"\xff\xd8"
    with client.stream("GET", "/api/sources/gate/mjpeg", params={"max_frames": 2}) as r:
        assert r.headers["content-type"].startswith("multipart/x-mixed-replace")
        body = b"".join(r.iter_bytes())
    assert body.count(b"--frame") == 2 and body.count(b"\xff\xd8") >= 2
    metrics = client.get("/metrics").text
    assert "shigu_frames_total" in metrics


def test_zone_added_live_raises_events_pushed_over_websocket(
    live: tuple[TestClient, object],
) -> None:
    client, _ = live
    zone = {
        "id": "walkway",
        "source": "gate",
        "polygon": [[0, 100], [480, 100], [480, 360], [0, 360]],
        "rules": [{"type": "intrusion", "classes": ["person"], "min_seconds": 0.5}],
    }
    bearer = {"Authorization": f"Bearer {client.token}"}  # type: ignore[attr-defined]
    with client.websocket_connect("/api/ws/events", headers=bearer) as ws:
        assert client.post("/api/zones", json=zone).status_code == 201
        deadline = time.monotonic() + 60
        got = None
        while time.monotonic() < deadline:
            msg = ws.receive_json()
            if msg["kind"] == "event" and msg["event"]["zone"] == "walkway":
                got = msg["event"]
                break
    assert got is not None and got["type"] == "intrusion"
    stored = client.get("/api/events", params={"zone": "walkway"}).json()["items"]
    assert any(e["id"] == got["id"] for e in stored)


def test_websocket_needs_auth(live: tuple[TestClient, object]) -> None:
    client, _ = live
    anon = TestClient(client.app)
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect) as exc, anon.websocket_connect("/api/ws/events") as ws:
        ws.receive_json()
    assert exc.value.code == 4401
    token = client.token  # type: ignore[attr-defined]
    with (
        pytest.raises(WebSocketDisconnect) as exc,
        anon.websocket_connect(f"/api/ws/events?token={token}") as ws,
    ):
        ws.receive_json()  # a token in the URL leaks into logs: refused
    assert exc.value.code == 4400
    evil = {"Authorization": f"Bearer {token}", "Origin": "https://evil.example"}
    with (
        pytest.raises(WebSocketDisconnect) as exc,
        anon.websocket_connect("/api/ws/events", headers=evil) as ws,
    ):
        ws.receive_json()  # another site's page may not ride on the user's credentials
    assert exc.value.code == 4403
    own = {"Authorization": f"Bearer {token}", "Origin": "http://testserver"}
    with anon.websocket_connect("/api/ws/events", headers=own):
        pass  # the dashboard's own origin is welcome


def test_streams_close_within_seconds_of_revocation(live: tuple[TestClient, object]) -> None:
    from starlette.websockets import WebSocketDisconnect

    client, ctx = live
    token_id, token = ctx.accounts.create_token("admin", "revoke me")  # type: ignore[attr-defined]
    viewer = TestClient(client.app)
    viewer.headers["Authorization"] = f"Bearer {token}"
    _wait(lambda: client.get("/api/sources/gate").json()["frames"] > 5)
    with viewer.websocket_connect(
        "/api/ws/events", headers={"Authorization": f"Bearer {token}"}
    ) as ws:
        assert client.delete(f"/api/tokens/{token_id}").status_code == 204
        revoked = time.monotonic()
        with pytest.raises(WebSocketDisconnect) as exc:
            while time.monotonic() - revoked < 30:
                ws.receive_json()
        assert exc.value.code == 4401
        assert time.monotonic() - revoked < 3.0
    token_id, token = ctx.accounts.create_token("admin", "revoke me too")  # type: ignore[attr-defined]
    viewer.headers["Authorization"] = f"Bearer {token}"
    with viewer.stream("GET", "/api/sources/gate/mjpeg") as r:
        chunks = r.iter_bytes()
        assert b"image/jpeg" in next(chunks)
        assert client.delete(f"/api/tokens/{token_id}").status_code == 204
        revoked = time.monotonic()
        for _ in chunks:  # the stream ends by itself once the token is revoked
            assert time.monotonic() - revoked < 30
        assert time.monotonic() - revoked < 3.0
