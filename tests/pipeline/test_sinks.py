"""Webhook delivery with retries and a dead-letter file, against a loopback HTTP server."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from shigu.core.events import Event, EventEnd
from shigu.pipeline.sinks import JsonlSink, WebhookSink


@pytest.fixture
def flaky_server(port: int) -> Iterator[tuple[str, list[dict], list[int]]]:
    received: list[dict] = []
    plan = [500, 503]  # the first two requests fail, the rest succeed

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            code = plan.pop(0) if plan else 200
            if code == 200:
                received.append(json.loads(body))
            self.send_response(code)
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}/hook", received, plan
    server.shutdown()


def test_webhook_retries_then_delivers(flaky_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url, received, _ = flaky_server
    sleeps: list[float] = []
    sink = WebhookSink(url, retries=3, dead_letter=tmp_path / "dead.jsonl", sleep=sleeps.append)
    ev = Event("intrusion", "gate", 1.0, zone="lawn", track_id=4)
    sink.handle(ev)
    sink.handle(EventEnd(ev.id, 3.0, {"dwell": 2.0}))
    sink.close()
    assert [m["type"] for m in received] == ["new", "end"]
    assert received[0]["event"]["id"] == ev.id
    assert sleeps == [0.5, 1.0]  # exponential backoff
    assert not (tmp_path / "dead.jsonl").exists()


def test_unreachable_webhook_goes_to_dead_letter(tmp_path: Path, port: int) -> None:
    dead = tmp_path / "dead.jsonl"
    sink = WebhookSink(
        f"http://127.0.0.1:{port}/none",
        retries=2,
        dead_letter=dead,
        sleep=lambda s: None,
        timeout=1.0,
    )
    sink.handle(Event("crowding", "gate", 2.0))
    sink.close()
    rows = [json.loads(x) for x in dead.read_text().splitlines()]
    assert len(rows) == 1 and rows[0]["message"]["event"]["type"] == "crowding"
    assert "Connect" in rows[0]["error"]


def test_jsonl_sink(tmp_path: Path) -> None:
    sink = JsonlSink(tmp_path / "a" / "e.jsonl")
    sink.handle(Event("stopped", "road", 1.0))
    sink.close()
    row = json.loads((tmp_path / "a" / "e.jsonl").read_text())
    assert row["type"] == "new" and row["event"]["type"] == "stopped"
