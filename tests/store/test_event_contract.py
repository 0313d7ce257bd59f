"""One event contract: the stored event reads back the same through every serialisation."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shigu.core.events import EVENT_FIELDS, SCHEMA_VERSION, Event, event_record
from shigu.store import EventFilter, EventStore
from shigu.store.paging import page_json
from tests.cli import run_cli
from tests.helpers import own_postgres_database


def _event() -> Event:
    return Event(
        type="intrusion", source="cam", start=1.5, end=4.25, zone="door", track_id=7,
        class_name="person", confidence=0.8125, frame_index=37, box=[10.5, 20.25, 60.0, 140.0],
        attributes={"pose": [[1.0, 2.0, 0.9]] * 17, "speed_kmh": 12.5}, snapshot="a/b.jpg",
        wall_time=datetime(2026, 12, 1, 8, 30, 0, 123456, tzinfo=UTC),
    )  # fmt: skip


def _check_store(url: str) -> None:
    store = EventStore(url)
    ev = _event()
    store.add(ev)
    expected = event_record(ev)
    assert list(expected) == list(EVENT_FIELDS) and expected["schema"] == SCHEMA_VERSION
    back = store.get(ev.id)
    assert back is not None and event_record(back) == expected  # box and attributes kept
    items, _ = page_json(store, EventFilter(source="cam"), 10)
    (sql_built,) = json.loads(items)  # serialised by the database itself
    assert sql_built == expected
    store.close()


def test_contract_sqlite(tmp_path: Path) -> None:
    _check_store(f"sqlite:///{tmp_path}/e.db")


@pytest.mark.integration
def test_contract_postgresql(postgres_url: str) -> None:
    _check_store(own_postgres_database(postgres_url, "event_contract"))


@pytest.mark.integration
def test_cli_export_has_the_contract_columns(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/e.db"
    store = EventStore(url)
    store.add(_event())
    store.close()
    proc = run_cli("events", "export", tmp_path / "e.csv", "--db", url)
    assert proc.returncode == 0, proc.stderr
    with (tmp_path / "e.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(EVENT_FIELDS)
    assert json.loads(rows[0]["box"]) == [10.5, 20.25, 60.0, 140.0]
    assert json.loads(rows[0]["attributes"])["speed_kmh"] == 12.5
    proc = run_cli("events", "export", tmp_path / "e.jsonl", "--db", url)
    assert proc.returncode == 0, proc.stderr
    (line,) = (tmp_path / "e.jsonl").read_text().splitlines()
    assert json.loads(line) == event_record(_event()) | {"id": json.loads(line)["id"]}


def test_old_store_is_migrated(tmp_path: Path) -> None:
    """A store made before schema 2 (no box column) opens, migrates and keeps its events."""
    import sqlite3
    from importlib import resources

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    url = f"sqlite:///{tmp_path}/old.db"
    engine = create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("shigu.store") / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
    with sqlite3.connect(tmp_path / "old.db") as db:
        db.execute(
            "INSERT INTO events (id, type, source, start, wall_time, attributes) "
            "VALUES ('e1', 'intrusion', 'cam', 1.0, '2026-11-30 10:00:00', '{}')"
        )
    store = EventStore(url)
    old = store.get("e1")
    assert old is not None and old.box is None and event_record(old)["box"] is None
    store.close()


def test_migrations_build_exactly_the_models(tmp_path: Path) -> None:
    """Every model change has its migration: a store built by the migrations compares equal
    to the models (alembic's autogenerate comparison finds nothing to do)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from shigu.store.models import Base

    store = EventStore(f"sqlite:///{tmp_path}/m.db")
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    store.close()
    assert diff == [], diff
