"""Cursor paging, and the database-built JSON page matching the Python one (SQLite, PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shigu.core.errors import InputError
from shigu.core.events import Event
from shigu.store import EventFilter, EventStore
from shigu.store.paging import acknowledge, decode_cursor, event_json, page, page_json


def _fill(store: EventStore) -> list[str]:
    base = datetime(2026, 11, 1, 8, 0, 0, 250000, tzinfo=UTC)
    ids = []
    for i in range(37):
        ev = Event(
            type="line_crossing",
            source="a" if i % 2 else "b",
            start=i * 0.5,
            end=i * 0.5 + 0.25,
            line="l1",
            track_id=i,
            class_name="car",
            confidence=0.123456789 * i,
            frame_index=i,
            attributes={"direction": "in", "speed_kmh": 41.5, "nested": {"k": [1, 2]}}
            if i % 3
            else {},
            snapshot="a/x.jpg" if i % 4 == 0 else None,
            clip="a/x.mp4" if i == 5 else None,
            wall_time=base + timedelta(seconds=i // 2),
        )  # pairs share a wall time
        store.add(ev)
        ids.append(ev.id)
    acknowledge(store, ids[3], "olga")
    return ids


def _check(store: EventStore) -> None:
    ids = _fill(store)
    for f in (
        EventFilter(),
        EventFilter(source="a"),
        EventFilter(since=datetime(2026, 11, 1, 8, 0, 5, tzinfo=UTC)),
    ):
        for newest in (True, False):
            expected, got, cursor_a, cursor_b = [], [], None, None
            while True:
                items, cursor_a = page(store, f, 7, cursor_a, newest)
                expected += [event_json(e, ack) for e, ack in items]
                text, cursor_b = page_json(store, f, 7, cursor_b, newest)
                got += json.loads(text)
                assert cursor_a == cursor_b or decode_cursor(cursor_a) == decode_cursor(cursor_b)  # type: ignore[arg-type]
                if cursor_a is None:
                    break
            assert [e["id"] for e in got] == [e["id"] for e in expected]
            assert len({e["id"] for e in got}) == len(got)
            for a, b in zip(got, expected, strict=True):
                assert datetime.fromisoformat(a.pop("wall_time")) == datetime.fromisoformat(
                    b.pop("wall_time")
                )
                assert a["confidence"] == pytest.approx(b["confidence"])
                a.pop("confidence"), b.pop("confidence")
                assert a == b
    assert len(ids) == 37


def test_json_page_matches_python_page_sqlite(tmp_path: Path) -> None:
    store = EventStore(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        _check(store)
    finally:
        store.close()


@pytest.mark.integration
def test_json_page_matches_python_page_postgresql(postgres_url: str) -> None:
    from sqlalchemy import text

    store = EventStore(postgres_url)
    try:
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM events"))
        _check(store)
    finally:
        store.close()


def test_bad_cursor() -> None:
    with pytest.raises(InputError, match="invalid cursor"):
        decode_cursor("%%%")


@pytest.mark.integration
def test_pages_survive_a_database_restart(tmp_path: Path) -> None:
    """The page reader skips the per-request ping: a connection the restart cut fails once
    and the read is retried on a fresh one, so the API never answers 500 for it."""
    import shutil
    import tempfile

    from tests.conftest import free_port
    from tests.servers.postgres import PostgresServer, pg_bin

    if pg_bin() is None:
        pytest.skip("PostgreSQL not installed; run make system-deps")
    root = Path(tempfile.mkdtemp(prefix="shigu-pg-restart-"))
    server = PostgresServer(root, free_port()).start()
    try:
        store = EventStore(server.url)
        _fill(store)
        before, _ = page_json(store, EventFilter(), 10)
        server.restart()
        after, _ = page_json(store, EventFilter(), 10)  # the pooled connection is dead now
        assert json.loads(after) == json.loads(before)
        store.close()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
