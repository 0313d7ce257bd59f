"""``EventStore``: events and runs in SQLite (WAL, default) or PostgreSQL (by URL).

Each event is committed on its own before anyone is told it was stored, so a crash loses
at most the event being written; media files are written (atomically) before the row that
points at them.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, delete, event, func, select, text, update
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.orm import Session

from shigu.core.errors import StoreError
from shigu.core.events import Event, EventEnd
from shigu.store.models import EventRow, FaceRow, OccupancyRow, RunRow


@dataclass
class EventFilter:
    """What ``EventStore.query`` selects; None means any."""

    since: datetime | None = None
    until: datetime | None = None
    source: str | None = None
    type: str | None = None
    zone: str | None = None
    line: str | None = None
    class_name: str | None = None
    run_id: str | None = None
    plate: str | None = None  # exact; "X*" prefix; "~X" one edit away (see plate_matches)
    limit: int | None = None
    offset: int = 0


def _edits_within_one(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with at most one character changed, added or removed."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def one_edit_away(plate: str) -> set[str]:
    """Every plate string at most one character change, insertion or deletion from
    ``plate`` over the plate alphabet (about 1,200 for a 7-character plate)."""
    from shigu.solutions.vehicles.grammar import DIGITS, LETTERS, PROVINCES

    alphabet = PROVINCES + LETTERS + DIGITS + "学警港澳挂领使"
    out = {plate}
    for i in range(len(plate) + 1):
        if i < len(plate):
            out.add(plate[:i] + plate[i + 1 :])
        for ch in alphabet:
            out.add(plate[:i] + ch + plate[i:])
            if i < len(plate):
                out.add(plate[:i] + ch + plate[i + 1 :])
    out.discard("")
    return out


def plate_matches(pattern: str, plate: str | None) -> bool:
    """A plate search: ``皖A12345`` exact, ``皖A1*`` prefix, ``~皖A12345`` one edit away
    (a character misread, missed or doubled, the usual reading errors)."""
    if plate is None:
        return False
    if pattern.startswith("~"):
        return _edits_within_one(pattern[1:], plate)
    if pattern.endswith("*"):
        return plate.startswith(pattern[:-1])
    return plate == pattern


def _utc(when: datetime) -> datetime:
    """The same instant in UTC (naive times are taken as UTC). Stores keep UTC; SQLite compares
    the text, so a +08:00 bound must be converted before it reaches the query."""

    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _redact(url: str) -> str:
    """The URL without its password (the one redaction rule: ``shigu.core.redact``)."""
    from shigu.core.redact import redact_uri

    return redact_uri(url) or url


def sqlite_path(url: str) -> Path | None:
    """The database file of a ``sqlite:///`` URL (None for other URLs or in-memory)."""
    if not url.startswith("sqlite:///") or url in ("sqlite:///", "sqlite:///:memory:"):
        return None
    return Path(url.removeprefix("sqlite:///"))


def make_engine(url: str, pre_ping: bool = True) -> Engine:
    """An engine for ``url``; SQLite gets WAL, full sync and a busy timeout. ``pre_ping``
    tests each pooled connection before use (a round trip to a database server): off for
    readers that retry instead (:func:`read_retrying`)."""
    path = sqlite_path(url)
    if path is not None and not path.parent.exists():
        raise StoreError(f"database folder does not exist: {path.parent}", "create it first")
    if path is not None and not path.exists():
        # events, users and password hashes: readable by the owner only (SQLite's WAL and
        # shared-memory files take the database file's mode)
        with contextlib.suppress(OSError):
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    try:
        engine = create_engine(url, pool_pre_ping=pre_ping)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise StoreError(
            f"bad database URL {_redact(url)!r}: {exc}",
            "use sqlite:///path.db or postgresql+psycopg://user:pass@host/db",
        ) from None
    except ModuleNotFoundError as exc:
        raise StoreError(
            f"database driver missing: {exc.name}", "pip install 'shigu[store]'"
        ) from None
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.execute("PRAGMA foreign_keys=ON")
            # Reads of a large store: a 32 MiB page cache and memory-mapped I/O (256 MiB)
            # instead of a read() system call per page.
            cur.execute("PRAGMA cache_size=-32768")
            cur.execute("PRAGMA mmap_size=268435456")
            cur.close()

    return engine


_MIGRATION_LOCK_KEY = 0x5348_4947_5530  # "SHIGU0": PostgreSQL advisory lock for migrations


@contextlib.contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    """Hold an exclusive lock on ``<db>.lock`` (SQLite files on POSIX; else a no-op)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    with open(f"{database}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (creates it on an empty database).

    Processes that open the same new database at once (a Ray run's driver and its source
    actors) take turns: a file lock on SQLite, an advisory lock on PostgreSQL; otherwise
    both would create the tables and one would fail.
    """
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("shigu.store") / "migrations"))
    with _sqlite_file_lock(engine), engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_KEY})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def _plate_of(ev: Event) -> str | None:
    plate = ev.attributes.get("plate") if ev.attributes else None
    return str(plate)[:16] if plate else None


def _to_event(row: EventRow) -> Event:
    wall = row.wall_time if row.wall_time.tzinfo else row.wall_time.replace(tzinfo=UTC)
    return Event(
        type=row.type,
        source=row.source,
        start=row.start,
        end=row.end,
        zone=row.zone,
        line=row.line,
        track_id=row.track_id,
        class_name=row.class_name,
        confidence=row.confidence,
        frame_index=row.frame_index,
        box=list(row.box) if row.box else None,
        attributes=dict(row.attributes or {}),
        snapshot=row.snapshot,
        snapshot_crop=row.snapshot_crop,
        clip=row.clip,
        id=row.id,
        wall_time=wall,
    )


def read_retrying(engine: Engine, stmt: Any) -> list[Any]:
    """Rows of a read-only ``stmt`` in autocommit (no BEGIN/ROLLBACK round trips), run again
    once when the connection turns out to be dead (a database restart): the pool has then
    dropped its stale connections and the second try opens a fresh one."""
    for attempt in (0, 1):
        try:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                return list(conn.execute(stmt).all())
        except DBAPIError as exc:
            if attempt or not exc.connection_invalidated:
                raise
    raise AssertionError("unreachable")


class EventStore:
    """Events and runs in a SQL database, schema migrated on open. Thread-safe."""

    def __init__(self, url: str = "sqlite:///shigu.db") -> None:
        self.url = url
        self.engine = make_engine(url)
        # The API's page reads: no ping round trip per request on a database server; a
        # connection the server dropped fails once and is retried (read_retrying).
        self.read_engine = (
            self.engine if self.engine.dialect.name == "sqlite" else make_engine(url, False)
        )
        self._lock = threading.Lock()
        try:
            migrate(self.engine)
        except OperationalError as exc:
            raise StoreError(
                f"cannot open database {_redact(url)}: {str(exc.orig).strip().splitlines()[0]}",
                "check the URL, that the server runs and the credentials",
            ) from None
        except SQLAlchemyError as exc:
            raise StoreError(f"database {_redact(url)} failed to migrate: {exc}") from None

    def close(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()

    # ------------------------------------------------------------------ writes
    def add(self, ev: Event, run_id: str | None = None, upsert: bool = False) -> None:
        """Store an event. ``upsert``: replace a stored event with the same id (a re-run of
        the same input after a crash writes the same ids, so it cannot duplicate events)."""
        row = EventRow(
            id=ev.id,
            type=ev.type,
            source=ev.source,
            start=ev.start,
            end=ev.end,
            wall_time=ev.wall_time,
            zone=ev.zone,
            line=ev.line,
            track_id=ev.track_id,
            class_name=ev.class_name,
            confidence=ev.confidence,
            frame_index=ev.frame_index,
            box=None if ev.box is None else [float(v) for v in ev.box],
            plate=_plate_of(ev),
            attributes=ev.attributes,
            snapshot=ev.snapshot,
            snapshot_crop=ev.snapshot_crop,
            clip=ev.clip,
            run_id=run_id,
        )
        self._write(lambda s: s.merge(row) if upsert else s.add(row))

    def close_event(self, end: EventEnd) -> None:
        """Record an ongoing event's end time and merge its final attributes."""

        def apply(s: Session) -> None:
            row = s.get(EventRow, end.id)
            if row is None:
                return
            row.end = end.end
            row.attributes = {**(row.attributes or {}), **end.attributes}

        self._write(apply)

    def set_media(self, event_id: str, **paths: str | None) -> None:
        self._write(
            lambda s: s.execute(update(EventRow).where(EventRow.id == event_id).values(**paths))
        )

    def add_occupancy(self, minutes: Sequence[Any], run_id: str | None = None) -> None:
        """Store finished minutes of occupancy zones (``OccupancyMinute``)."""
        rows = [OccupancyRow(source=m.source, zone=m.zone, minute=m.minute,
                             wall_time=_utc(m.wall_time), mean=m.mean, max=m.max,
                             frames=m.frames, run_id=run_id) for m in minutes]  # fmt: skip
        self._write(lambda s: s.add_all(rows))

    def occupancy(
        self,
        source: str | None = None,
        zone: str | None = None,
        since: datetime | None = None,
        limit: int = 10_000,
    ) -> list[dict[str, Any]]:
        """Per-minute head counts, oldest first: source, zone, minute (media seconds),
        wall_time (ISO 8601), mean, max, frames."""
        stmt = select(OccupancyRow)
        if source is not None:
            stmt = stmt.where(OccupancyRow.source == source)
        if zone is not None:
            stmt = stmt.where(OccupancyRow.zone == zone)
        if since is not None:
            stmt = stmt.where(OccupancyRow.wall_time >= _utc(since))
        stmt = stmt.order_by(OccupancyRow.wall_time, OccupancyRow.id).limit(limit)
        rows = read_retrying(self.read_engine, stmt)
        return [{"source": r.source, "zone": r.zone, "minute": r.minute,
                 "wall_time": _utc(r.wall_time).isoformat(), "mean": r.mean, "max": r.max,
                 "frames": r.frames} for r in rows]  # fmt: skip

    # ------------------------------------------------------------------ known faces
    def add_faces(self, name: str, embeddings: Sequence[Sequence[float]], origin: str) -> int:
        """Enrol ``name`` with these face embeddings; returns how many are stored for them."""
        now = datetime.now(UTC)
        rows = [FaceRow(name=name, embedding=[round(float(v), 6) for v in e], origin=origin,
                        created=now) for e in embeddings]  # fmt: skip
        self._write(lambda s: s.add_all(rows))
        return sum(1 for n, _ in self.face_embeddings() if n == name)

    def face_embeddings(self) -> list[tuple[str, list[float]]]:
        """Every enrolled (name, embedding)."""
        rows = read_retrying(self.read_engine, select(FaceRow.name, FaceRow.embedding))
        return [(r.name, list(r.embedding)) for r in rows]

    def faces(self) -> list[dict[str, Any]]:
        """Enrolled people: name, number of embeddings, first enrolment (ISO 8601)."""
        stmt = (select(FaceRow.name, func.count(FaceRow.id), func.min(FaceRow.created))
                .group_by(FaceRow.name).order_by(FaceRow.name))  # fmt: skip
        return [{"name": n, "embeddings": int(c), "enrolled": _utc(t).isoformat()}
                for n, c, t in read_retrying(self.read_engine, stmt)]  # fmt: skip

    def delete_faces(self, name: str) -> int:
        """Delete every embedding of ``name`` (a person's request); returns how many."""
        deleted = [0]

        def apply(s: Session) -> None:
            result = s.execute(delete(FaceRow).where(FaceRow.name == name))
            deleted[0] = int(getattr(result, "rowcount", 0) or 0)

        self._write(apply)
        return deleted[0]

    def start_run(self, config: dict[str, Any]) -> str:
        """Record a run (with the host and process that makes it, so a later run can tell a
        crashed one from one still going), closing what crashed runs left open first."""
        self.close_interrupted_runs()
        run_id = uuid.uuid4().hex
        owner = {"host": socket.gethostname(), "pid": os.getpid()}
        row = RunRow(id=run_id, started=datetime.now(UTC), config={**config, "_process": owner})
        self._write(lambda s: s.add(row))
        return run_id

    def close_interrupted_runs(self) -> int:
        """Finish the runs of this host whose process is gone (killed, crashed, power cut):
        their summary says ``interrupted`` and their events still open get an end (their
        start, marked ``closed_after_crash``). Runs of other hosts are left alone: whether
        they still run cannot be told from here. How many runs were closed."""
        host = socket.gethostname()
        closed = 0

        def alive(pid: int) -> bool:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return False
            except PermissionError:
                return True
            return pid != 0

        def apply(s: Session) -> None:
            nonlocal closed
            for run in s.scalars(select(RunRow).where(RunRow.finished.is_(None))):
                owner = (run.config or {}).get("_process") or {}
                pid = owner.get("pid")
                if owner.get("host") != host or not isinstance(pid, int) or alive(pid):
                    continue
                run.finished = datetime.now(UTC)
                run.summary = {"interrupted": True, "closed_by": os.getpid()}
                for ev in s.scalars(
                    select(EventRow).where(EventRow.run_id == run.id, EventRow.end.is_(None))
                ):
                    ev.end = ev.start
                    ev.attributes = {**(ev.attributes or {}), "closed_after_crash": True}
                closed += 1

        self._write(apply)
        return closed

    def finish_run(self, run_id: str, summary: dict[str, Any]) -> None:
        def apply(s: Session) -> None:
            row = s.get(RunRow, run_id)
            if row is not None:
                row.finished = datetime.now(UTC)
                row.summary = summary

        self._write(apply)

    def _write(self, fn: Any) -> None:
        with self._lock:
            try:
                with Session(self.engine) as s, s.begin():
                    fn(s)
            except SQLAlchemyError as exc:
                raise StoreError(f"database write failed: {str(exc).splitlines()[0]}") from None

    # ------------------------------------------------------------------ reads
    def get(self, event_id: str) -> Event | None:
        with Session(self.engine) as s:
            row = s.get(EventRow, event_id)
            if row is None:  # allow a unique prefix, as git does
                rows = s.scalars(
                    select(EventRow)
                    .where(EventRow.id.startswith(event_id, autoescape=True))
                    .limit(2)
                ).all()
                row = rows[0] if len(rows) == 1 else None
            return _to_event(row) if row is not None else None

    def _select(self, f: EventFilter, stmt: Any) -> Any:
        """``stmt`` narrowed by the filter's conditions."""
        for col, value in (
            (EventRow.source, f.source),
            (EventRow.type, f.type),
            (EventRow.zone, f.zone),
            (EventRow.line, f.line),
            (EventRow.class_name, f.class_name),
            (EventRow.run_id, f.run_id),
        ):
            if value is not None:
                stmt = stmt.where(col == value)
        if f.plate is not None:
            p = f.plate
            if p.startswith("~"):  # every string one edit away, looked up in the index
                stmt = stmt.where(EventRow.plate.in_(sorted(one_edit_away(p[1:]))))
            elif p.endswith("*"):
                prefix = p[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                stmt = stmt.where(EventRow.plate.like(prefix + "%", escape="\\"))
            else:
                stmt = stmt.where(EventRow.plate == p)
        if f.since is not None:
            stmt = stmt.where(EventRow.wall_time >= _utc(f.since))
        if f.until is not None:
            stmt = stmt.where(EventRow.wall_time < _utc(f.until))
        return stmt

    def count_buckets(self, f: EventFilter, interval: int) -> dict[tuple[str, str, str], int]:
        """Events per (interval start, line or zone or source, type), line crossings split by
        direction (``key:in``): the columns alone, streamed, not whole events (the stats
        endpoint on 500,000 events read every event as an object, 15 s)."""
        direction = EventRow.attributes["direction"].as_string()
        stmt = self._select(f, select(EventRow.wall_time, EventRow.line, EventRow.zone,
                                      EventRow.source, EventRow.type, direction))  # fmt: skip
        buckets: dict[tuple[str, str, str], int] = {}
        starts: dict[int, str] = {}
        with self.engine.connect() as conn:
            for wall, line, zone, source, kind, way in conn.execute(
                stmt.execution_options(yield_per=5000)
            ):
                t = (wall if wall.tzinfo else wall.replace(tzinfo=UTC)).timestamp()
                bucket = int(t - t % interval)
                start = starts.get(bucket)
                if start is None:
                    start = starts[bucket] = datetime.fromtimestamp(bucket, UTC).isoformat()
                key = line or zone or source
                if line and way:
                    key = f"{key}:{way}"
                buckets[(start, key, kind)] = buckets.get((start, key, kind), 0) + 1
        return buckets

    def query(self, f: EventFilter | None = None) -> list[Event]:
        f = f or EventFilter()
        stmt = (
            self._select(f, select(EventRow))
            .order_by(EventRow.wall_time, EventRow.start)
            .offset(f.offset)
        )
        if f.limit is not None:
            stmt = stmt.limit(f.limit)
        with Session(self.engine) as s:
            return [_to_event(r) for r in s.scalars(stmt)]

    def count(self, f: EventFilter | None = None) -> int:
        """How many events match (counted by the database, not loaded)."""
        stmt = self._select(f or EventFilter(), select(func.count()).select_from(EventRow))
        with Session(self.engine) as s:
            return int(s.scalar(stmt) or 0)

    def counts_by_type(self) -> dict[str, int]:
        with Session(self.engine) as s:
            rows = s.execute(select(EventRow.type, func.count()).group_by(EventRow.type)).all()
        return {str(t): int(n) for t, n in rows}

    def forget_media(self, paths: Sequence[str]) -> None:
        """Clear references to media files retention deleted (the events stay)."""
        gone = list(paths)
        if not gone:
            return

        def apply(s: Session) -> None:
            for col in ("snapshot", "snapshot_crop", "clip"):
                column = getattr(EventRow, col)
                s.execute(update(EventRow).where(column.in_(gone)).values({col: None}))

        self._write(apply)
