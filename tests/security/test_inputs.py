"""The fault probe, kept as tests: body limits, NUL characters, time zones, limiter memory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from shigu.core.events import Event
from shigu.server.auth import LoginLimiter
from shigu.store import EventFilter, EventStore
from tests.helpers import own_postgres_database


def test_chunked_body_is_limited_by_the_bytes_read(api) -> None:
    """No Content-Length (chunked): the 1 MiB limit still holds, anonymously, at sign-in."""
    client = api.client()

    def chunks():
        for _ in range(5 * 16):  # 5 MiB in 64 KiB pieces
            yield b"x" * 65536

    r = client.post(
        "/api/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413 and "body" in r.json()["detail"]
    ok = client.post("/api/auth/login", json={"username": "nobody", "password": "x" * 10})
    assert ok.status_code == 401  # a small body still reaches the route


def test_nul_characters_are_refused(api) -> None:
    anon = api.client()
    r = anon.post("/api/auth/login", json={"username": "ad\u0000min", "password": "whatever1"})
    assert r.status_code == 422 and "NUL" in r.json()["detail"]
    viewer = api.client("viewer")
    assert viewer.get("/api/events", params={"source": "g\x00ate"}).status_code == 422
    assert viewer.get("/api/events/export", params={"zone": "\x00"}).status_code == 422


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_time_zone_offsets_are_honoured(backend: str, tmp_path: Path, request) -> None:
    url = (
        f"sqlite:///{tmp_path}/e.db"
        if backend == "sqlite"
        else own_postgres_database(request.getfixturevalue("postgres_url"), "tz_offsets")
    )
    store = EventStore(url)
    run = store.start_run({"sources": []})
    ev = Event("intrusion", f"tz-{backend}-{tmp_path.name}", 1.0)
    store.add(ev, run)
    shanghai = timezone(timedelta(hours=8))
    now_there = datetime.now(UTC).astimezone(shanghai)
    window = EventFilter(
        since=now_there - timedelta(hours=1), until=now_there + timedelta(hours=1), source=ev.source
    )
    assert [e.id for e in store.query(window)] == [ev.id]
    before = EventFilter(until=now_there - timedelta(hours=1), source=ev.source)
    assert store.query(before) == []
    store.close()


def test_sign_in_limiter_memory_is_bounded() -> None:
    limiter = LoginLimiter(attempts=5, window=60.0)
    for i in range(LoginLimiter.MAX_KEYS * 2):
        limiter.retry_after(f"ip:{i}")  # asking never stores
    assert len(limiter._fails) == 0
    for i in range(LoginLimiter.MAX_KEYS + 500):
        limiter.failed(f"user:{i}")
    assert len(limiter._fails) <= LoginLimiter.MAX_KEYS
    for _ in range(5):
        limiter.failed("ip:target")
    assert limiter.retry_after("ip:target") > 0  # the limit itself still works
    for _ in range(limiter.user_attempts):
        limiter.failed("user:target")
    assert limiter.retry_after("user:target") > 0  # and the slower per-name one


def test_new_sqlite_store_is_private(tmp_path: Path) -> None:
    import os
    import stat

    store = EventStore(f"sqlite:///{tmp_path}/private.db")
    store.add(Event("intrusion", "gate", 1.0), store.start_run({"sources": []}))
    for name in ("private.db", "private.db-wal"):
        path = tmp_path / name
        if path.exists():
            assert stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0, name
    store.close()


def test_non_finite_numbers_are_refused_in_the_api_and_the_config(api) -> None:  # type: ignore[no-untyped-def]
    from shigu.core.errors import ConfigError
    from shigu.pipeline.config import parse_config

    admin = api.client("admin")
    for bad in ("NaN", "Infinity", "-Infinity"):
        body = ('{"id": "z9", "source": "gate", "polygon": [[0, 0], [' + bad
                + ', 10], [10, 10]], "rules": []}')  # fmt: skip
        resp = admin.post("/api/zones", content=body, headers={"Content-Type": "application/json"})
        assert resp.status_code == 422, (bad, resp.text)
    resp = admin.post("/api/sources", content='{"id": "s9", "uri": "x.mp4", "fps": NaN}',
                      headers={"Content-Type": "application/json"})  # fmt: skip
    assert resp.status_code == 422
    cfg = {"sources": [{"id": "a", "uri": "x.mp4"}],
           "zones": [{"id": "z", "source": "a", "polygon": [[0, 0], [float("nan"), 0], [1, 1]],
                      "rules": []}]}  # fmt: skip
    try:
        parse_config(cfg)
    except ConfigError as exc:
        assert "finite" in str(exc)
    else:
        raise AssertionError("a NaN zone point was accepted")


def test_a_slow_change_does_not_stall_readers(api, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import threading
    import time

    from shigu.server import host as host_module

    real = host_module.parse_config

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(1.5)  # a big zone's validation
        return real(*args, **kwargs)

    monkeypatch.setattr(host_module, "parse_config", slow)
    change = threading.Thread(target=api.ctx.host._apply, args=(lambda data: None,))
    change.start()
    time.sleep(0.2)
    started = time.perf_counter()
    assert api.ctx.host.sources()  # answered while the change validates
    assert time.perf_counter() - started < 0.5
    change.join(10)
    points = [[i, i % 7] for i in range(300)]
    resp = api.client("admin").post("/api/zones", json={"id": "big", "source": "gate",
                                                       "polygon": points, "rules": []})  # fmt: skip
    assert resp.status_code == 422  # more points than a hand-drawn zone ever has
