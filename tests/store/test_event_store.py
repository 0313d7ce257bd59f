"""The event store on SQLite and on a real PostgreSQL server; media retention."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from shigu.core.errors import StoreError
from shigu.core.events import Event, EventEnd
from shigu.store import EventFilter, EventStore, MediaStore


def _exercise(store: EventStore) -> None:
    a = Event(
        "intrusion",
        "gate",
        1.0,
        zone="lawn",
        track_id=3,
        class_name="person",
        attributes={"dwell": 1.0},
        box=[1, 2, 3, 4],
    )
    b = Event(
        "line_crossing",
        "road",
        5.0,
        end=5.0,
        line="l1",
        track_id=9,
        class_name="car",
        attributes={"direction": "in", "speed_kmh": 42.5},
    )
    b.wall_time = datetime.now(UTC) + timedelta(seconds=1)
    run = store.start_run({"sources": []})
    store.add(a, run)
    store.add(b, run)
    store.close_event(EventEnd(a.id, 4.5, {"dwell": 3.5}))
    store.set_media(a.id, snapshot="gate/x.jpg")
    got = store.get(a.id)
    assert got is not None and got.end == 4.5 and got.attributes == {"dwell": 3.5}
    assert got.snapshot == "gate/x.jpg" and got.wall_time.tzinfo is not None
    assert store.get(a.id[:10]) is not None  # unique prefix
    # counts per interval and key, crossings by direction, on both back ends
    buckets = store.count_buckets(EventFilter(), 86400)
    assert sorted((k, t, n) for (_, k, t), n in buckets.items()) == [
        ("l1:in", "line_crossing", 1), ("lawn", "intrusion", 1)]  # fmt: skip
    day = datetime.fromtimestamp(a.wall_time.timestamp() // 86400 * 86400, UTC).isoformat()
    assert (day, "lawn", "intrusion") in buckets
    assert [e.id for e in store.query(EventFilter(source="road"))] == [b.id]
    assert [e.id for e in store.query(EventFilter(class_name="person"))] == [a.id]
    assert [e.id for e in store.query(EventFilter(type="line_crossing", line="l1"))] == [b.id]
    assert [e.id for e in store.query()] == [a.id, b.id]  # oldest first
    assert store.query(EventFilter(since=datetime.now(UTC) + timedelta(hours=1))) == []
    assert store.query(EventFilter(run_id=run, limit=1))[0].id == a.id
    assert store.counts_by_type() == {"intrusion": 1, "line_crossing": 1}
    assert store.count() == 2 and store.count(EventFilter(source="gate")) == 1
    store.forget_media(["gate/x.jpg"])
    assert store.get(a.id).snapshot is None  # type: ignore[union-attr]
    store.finish_run(run, {"frames": 10})


def test_sqlite_store_wal_and_reopen(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/events.db"
    store = EventStore(url)
    _exercise(store)
    store.close()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    again = EventStore(url)  # migrations are idempotent
    assert again.counts_by_type() == {"intrusion": 1, "line_crossing": 1}


@pytest.mark.integration
def test_postgresql_store(postgres_url: str) -> None:
    store = EventStore(postgres_url)
    _exercise(store)
    store.close()


def _open_and_add(url: str, k: int) -> str:
    store = EventStore(url)
    ev = Event(type="intrusion", source=f"cam{k}", start=float(k))
    store.add(ev)
    store.close()
    return ev.id


def _open_concurrently(url: str, processes: int = 6) -> None:
    """Several processes open the same new database at once (a Ray run's driver and actors):
    each migrates it, none fails, every event is stored."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(processes, mp_context=ctx) as pool:
        ids = list(pool.map(_open_and_add, [url] * processes, range(processes)))
    store = EventStore(url)
    assert sorted(e.id for e in store.query()) == sorted(ids)
    store.close()


def test_new_sqlite_database_opened_by_many_processes_at_once(tmp_path: Path) -> None:
    _open_concurrently(f"sqlite:///{tmp_path}/race.db")


def test_new_postgresql_database_opened_by_many_processes_at_once(postgres_url: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS migrate_race"))
        conn.execute(text("CREATE DATABASE migrate_race"))
    admin.dispose()
    _open_concurrently(postgres_url.rsplit("/", 1)[0] + "/migrate_race")


def test_bad_urls_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="bad database URL"):
        EventStore("nosuchdb://x")
    with pytest.raises(StoreError, match="does not exist"):
        EventStore(f"sqlite:///{tmp_path}/missing/dir/x.db")
    with pytest.raises(StoreError, match="cannot open database"):
        EventStore("postgresql+psycopg://nobody:secret@127.0.0.1:1/none")


def test_media_atomic_write_retention_and_full_disk(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    media = MediaStore(tmp_path / "m", retention_days=1, retention_bytes=None)
    img = np.zeros((20, 30, 3), np.uint8)
    old = media.save_jpeg("cam/old.jpg", img)
    new = media.save_jpeg("cam/new.jpg", img)
    assert old and new and (tmp_path / "m/cam/new.jpg").read_bytes()[:2] == b"\xff\xd8"
    past = time.time() - 3 * 86400
    os.utime(tmp_path / "m/cam/old.jpg", (past, past))
    assert media.enforce_retention() == ["cam/old.jpg"]
    big = MediaStore(tmp_path / "m", retention_days=None, retention_bytes=1)
    assert big.enforce_retention() == ["cam/new.jpg"]

    def no_space(*_a, **_k):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    assert media.save_jpeg("cam/full.jpg", img) is None
    assert media.failures == 1 and "No space" in (media.last_error or "")
    assert not list((tmp_path / "m/cam").glob(".tmp-*"))  # no half-written files left


def test_id_prefix_is_not_a_pattern(tmp_path: Path) -> None:
    """`%` and `_` in an id prefix are characters, not SQL wildcards."""
    store = EventStore(f"sqlite:///{tmp_path}/e.db")
    ev = Event("intrusion", "gate", 1.0)
    store.add(ev, store.start_run({"sources": []}))
    assert store.get(ev.id[:6]) is not None
    assert store.get("%") is None and store.get("_" * 6) is None
    store.close()
