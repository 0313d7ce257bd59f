"""Keyset (cursor) pagination over events, newest or oldest first.

Pages are cut on (wall_time, id), not OFFSET: every page costs the same however deep it is,
and rows inserted meanwhile never shift a page. With a source filter the
``ix_events_source_wall_id`` index serves the whole query.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    String,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy import (
    false as sa_false,
)
from sqlalchemy import (
    true as sa_true,
)
from sqlalchemy.orm import Session

from shigu.core.errors import InputError
from shigu.core.events import EVENT_FIELDS, SCHEMA_VERSION, Event, event_record
from shigu.store.events import EventFilter, EventStore, _to_event, read_retrying
from shigu.store.models import AckRow, EventRow


def event_json(ev: Event, acknowledged_by: str | None = None) -> dict[str, Any]:
    """An event in the API's JSON shape: the event contract's record."""
    return event_record(ev, acknowledged_by)


def encode_cursor(wall_time: datetime, event_id: str) -> str:
    raw = json.dumps([wall_time.isoformat(), event_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, event_id = json.loads(raw)
        when = datetime.fromisoformat(stamp)
        if not isinstance(event_id, str):
            raise ValueError("bad id")
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise InputError(
            "invalid cursor", "pass the next_cursor value of the previous page"
        ) from exc
    return (when if when.tzinfo else when.replace(tzinfo=UTC)), event_id


def _keyset(stmt: Any, cursor: str | None, newest_first: bool, limit: int) -> Any:
    """``stmt`` continued after ``cursor`` in (wall_time, id) order, one row over ``limit``
    (so the caller knows whether another page follows)."""
    t = EventRow.__table__.c
    if cursor:
        when, event_id = decode_cursor(cursor)
        if newest_first:
            stmt = stmt.where(or_(t.wall_time < when, and_(t.wall_time == when, t.id < event_id)))
        else:
            stmt = stmt.where(or_(t.wall_time > when, and_(t.wall_time == when, t.id > event_id)))
    order = (t.wall_time.desc(), t.id.desc()) if newest_first else (t.wall_time, t.id)
    return stmt.order_by(*order).limit(limit + 1)


def page(
    store: EventStore,
    f: EventFilter,
    limit: int,
    cursor: str | None = None,
    newest_first: bool = True,
) -> tuple[list[tuple[Event, str | None]], str | None]:
    """One page of (event, acknowledged_by) and the cursor of the next page (None at the end)."""
    stmt: Any = _keyset(store._select(f, select(EventRow)), cursor, newest_first, limit)
    with Session(store.engine) as s:
        rows = list(s.scalars(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    items = [(_to_event(r), r.acknowledged_by) for r in rows]
    nxt = None
    if more and rows:
        last = rows[-1]
        wall = last.wall_time if last.wall_time.tzinfo else last.wall_time.replace(tzinfo=UTC)
        nxt = encode_cursor(wall, last.id)
    return items, nxt


def iter_events(
    store: EventStore, f: EventFilter, page_size: int = 1000
) -> Iterator[tuple[Event, str | None]]:
    """Every (event, acknowledged_by) ``f`` selects, oldest first, read page by page."""
    cursor: str | None = None
    left = f.limit
    while True:
        size = page_size if left is None else min(page_size, left)
        if size <= 0:
            return
        items, cursor = page(store, f, size, cursor, newest_first=False)
        yield from items
        if left is not None:
            left -= len(items)
        if cursor is None:
            return


def _json_row(dialect: str) -> Any:
    """A SQL expression giving each event as the API's JSON object, built by the database.

    Serialising in SQL (SQLite's ``json_object``, PostgreSQL's ``json_build_object``) saves
    the Python objects per row and field that dominate a page's cost. Other databases: None.
    """
    t = EventRow.__table__.c
    build: Any
    true: Any
    false: Any
    if dialect == "sqlite":
        wall: Any = func.replace(t.wall_time, " ", "T").concat("+00:00")
        attributes: Any = func.json(func.coalesce(t.attributes, "{}"))
        build, true, false = func.json_object, func.json("true"), func.json("false")
    elif dialect == "postgresql":
        wall = func.to_char(func.timezone("UTC", t.wall_time), 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')
        attributes = func.coalesce(t.attributes, literal_column("'{}'::json"))
        build, true, false = func.json_build_object, sa_true(), sa_false()
    else:
        return None
    if dialect == "sqlite":
        box: Any = func.json(func.coalesce(t.box, "null"))
    else:
        box = t.box
    columns: dict[str, Any] = {
        "schema": literal(SCHEMA_VERSION),
        "wall_time": wall,
        "box": box,
        "attributes": attributes,
        "has_snapshot": case((func.coalesce(t.snapshot, "") != "", true), else_=false),
        "has_clip": case((func.coalesce(t.clip, "") != "", true), else_=false),
    }
    fields = [(key, columns[key] if key in columns else t[key]) for key in EVENT_FIELDS]
    args: list[Any] = []
    for key, value in fields:
        args += [literal(key), value]
    if dialect == "postgresql":  # json → text in SQL, or psycopg would parse it back
        return cast(build(*args), Text)
    return type_coerce(build(*args), String)


_JSON_SQL: dict[str, str | None] = {}


def _json_column(dialect: Any) -> Any:
    """:func:`_json_row` compiled once per dialect and reused as a literal column.

    Building the 30-field expression and computing SQLAlchemy's cache key for it took about
    a fifth of a page request's Python time (py-spy, the API load test); a literal column's
    cache key is just its text. Only constants are inlined (field names, the schema version)."""
    if dialect.name not in _JSON_SQL:
        expr = _json_row(dialect.name)
        _JSON_SQL[dialect.name] = (
            None
            if expr is None
            else str(expr.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        )
    sql = _JSON_SQL[dialect.name]
    return None if sql is None else literal_column(sql, String)


def page_json(
    store: EventStore,
    f: EventFilter,
    limit: int,
    cursor: str | None = None,
    newest_first: bool = True,
) -> tuple[str, str | None]:
    """Like :func:`page`, but the page's ``items`` array as JSON text, serialised by the
    database where it can: the API's hot path."""
    row_json = _json_column(store.engine.dialect)
    t = EventRow.__table__.c
    if row_json is None:
        items, nxt = page(store, f, limit, cursor, newest_first)
        return json.dumps([event_json(e, ack) for e, ack in items]), nxt
    stmt: Any = _keyset(
        store._select(f, select(row_json, t.wall_time, t.id)), cursor, newest_first, limit
    )
    rows = read_retrying(store.read_engine, stmt)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = None
    if more and rows:
        wall = rows[-1][1]
        wall = wall if wall.tzinfo else wall.replace(tzinfo=UTC)
        nxt = encode_cursor(wall, rows[-1][2])
    return "[" + ",".join(r[0] for r in rows) + "]", nxt


def acknowledge(store: EventStore, event_id: str, user: str) -> bool:
    """Record that ``user`` acknowledged the event. The first acknowledgement stays on the
    event; every one, the first included, is kept in the audit (`acknowledgements`)."""
    found = False

    def apply(s: Session) -> None:
        nonlocal found
        row = s.get(EventRow, event_id)
        if row is not None:
            found = True
            now = datetime.now(UTC)
            if row.acknowledged_by is None:
                row.acknowledged_by = user
                row.acknowledged_at = now
            s.add(AckRow(event_id=event_id, user=user, at=now))

    store._write(apply)
    return found


def acknowledgements(store: EventStore, event_id: str) -> list[dict[str, str]]:
    """Every acknowledgement of an event, oldest first."""
    with Session(store.engine) as s:
        rows = s.scalars(
            select(AckRow).where(AckRow.event_id == event_id).order_by(AckRow.at, AckRow.id)
        )
        return [{"user": r.user, "at": (r.at if r.at.tzinfo else r.at.replace(tzinfo=UTC))
                 .isoformat()} for r in rows]  # fmt: skip


def acknowledged_by(store: EventStore, event_id: str) -> str | None:
    with Session(store.engine) as s:
        row = s.get(EventRow, event_id)
        return row.acknowledged_by if row else None
