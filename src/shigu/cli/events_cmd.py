"""``shigu events list|show|export``: read the event store."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer

from shigu.cli._common import check_output_path, console
from shigu.core.errors import InputError
from shigu.core.events import EVENT_FIELDS, csv_row, event_record
from shigu.store.paging import iter_events

app = typer.Typer(
    help="Events in the store: list with filters, show one, export to CSV or JSONL.",
    no_args_is_help=True,
)

DB_OPTION = typer.Option(
    None,
    "--db",
    envvar="SHIGU_DB",
    help="Store URL (sqlite:///… or postgresql+psycopg://…). Default: --config's store, else "
    "the last `shigu run`'s, else ./shigu.db. A store is never created to be read.",
)
CONFIG_OPTION = typer.Option(None, "--config", help="Read the store this pipeline config uses.")


def _open_store(db: str | None, config: Path | None) -> Any:
    from shigu.cli._common import console_err
    from shigu.store import EventStore
    from shigu.store.locate import locate_store

    url, origin = locate_store(db, config)
    if not db:
        console_err.print(f"reading {origin}", highlight=False, markup=False)
    return EventStore(url)


def _when(text: str | None, option: str) -> datetime | None:
    """ISO time (``2026-11-22T10:00``) or a relative age (``30m``, ``2h``, ``7d``)."""
    if text is None:
        return None
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text[-1:] in units and text[:-1].replace(".", "", 1).isdigit():
        return datetime.now(UTC) - timedelta(seconds=float(text[:-1]) * units[text[-1]])
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{option} {text!r} is not a time", "use ISO (2026-11-22T10:00) or an age (30m, 2h, 7d)"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _filter(**kw: Any) -> Any:
    from shigu.store import EventFilter

    return EventFilter(
        since=_when(kw["since"], "--since"),
        until=_when(kw["until"], "--until"),
        source=kw["source"],
        type=kw["type"],
        zone=kw["zone"],
        line=kw["line"],
        class_name=kw["class_name"],
        plate=kw.get("plate"),
        limit=kw.get("limit"),
    )


SINCE = typer.Option(None, "--since", help="From this time (ISO) or age (30m, 2h, 7d).")
UNTIL = typer.Option(None, "--until", help="Before this time (ISO) or age.")
SOURCE = typer.Option(None, "--source", help="Only this source id.")
TYPE = typer.Option(None, "--type", help="Only this event type (intrusion, line_crossing, …).")
ZONE = typer.Option(None, "--zone", help="Only this zone id.")
LINE = typer.Option(None, "--line", help="Only this line id.")
CLASS = typer.Option(None, "--class", help="Only this object class (person, car, …).")
PLATE = typer.Option(
    None,
    "--plate",
    help="Events about this licence plate: 皖A12345 exact, '皖A1*' prefix, '~皖A12345' "
    "also one character off (a misread, missed or extra character).",
)


@app.command(
    "list",
    help="List events, oldest first.\n\nExample: shigu events list --type intrusion --since 2h"
    "\n\nshigu events list --plate '~皖A12345'",
)
def list_events(
    db: str | None = DB_OPTION,
    config: Path | None = CONFIG_OPTION,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    source: str | None = SOURCE,
    type: str | None = TYPE,
    zone: str | None = ZONE,
    line: str | None = LINE,
    class_name: str | None = CLASS,
    plate: str | None = PLATE,
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many (newest kept)."),
) -> None:
    store = _open_store(db, config)
    wanted = _filter(**locals() | {"limit": None})
    wanted.offset = max(0, store.count(wanted) - limit)  # the newest `limit`, oldest first
    wanted.limit = limit
    events = store.query(wanted)
    from shigu.cli._common import narrow_table

    rows = [
        [
            ev.id[:8],
            ev.wall_time.strftime("%m-%d %H:%M:%S"),
            ev.type,
            ev.source,
            ev.zone or ev.line or "",
            "" if ev.track_id is None else str(ev.track_id),
            ev.class_name or "",
            ", ".join(f"{k}={v}" for k, v in ev.attributes.items()),
        ]
        for ev in events
    ]
    headers = ["id", "time (UTC)", "type", "source", "where", "track", "class", "details"]
    table = narrow_table(f"{len(events)} events", headers, rows)
    console.print(table)


@app.command("show", help="Everything about one event (an id or a unique prefix of it).")
def show(
    event_id: str = typer.Argument(..., help="Event id or unique prefix."),
    db: str | None = DB_OPTION,
    config: Path | None = CONFIG_OPTION,
) -> None:
    ev = _open_store(db, config).get(event_id)
    if ev is None:
        raise InputError(f"no event {event_id!r} in the store", "see `shigu events list`")
    console.print_json(json.dumps(ev.to_dict()))


@app.command(
    "export",
    help="Export events to CSV or JSONL (by the file's extension).\n\n"
    "Example: shigu events export events.csv --source gate --since 7d",
)
def export(
    out: Path = typer.Argument(..., help="events.csv or events.jsonl"),
    db: str | None = DB_OPTION,
    config: Path | None = CONFIG_OPTION,
    since: str | None = SINCE,
    until: str | None = UNTIL,
    source: str | None = SOURCE,
    type: str | None = TYPE,
    zone: str | None = ZONE,
    line: str | None = LINE,
    class_name: str | None = CLASS,
    plate: str | None = PLATE,
) -> None:
    check_output_path(out, (".csv", ".jsonl"), "export file")
    store = _open_store(db, config)
    f = _filter(**{k: v for k, v in locals().items() if k not in ("out", "db", "config", "store")})
    tmp = out.with_name(out.name + ".part")
    written = 0
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(EVENT_FIELDS))
        if out.suffix.lower() != ".jsonl":
            writer.writeheader()
        # page by page (keyset), oldest first: memory stays flat for any number of events
        for ev, ack in iter_events(store, f):
            record = event_record(ev, ack)
            if out.suffix.lower() == ".jsonl":
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            else:
                writer.writerow(csv_row(record))
            written += 1
    tmp.replace(out)
    console.print(f"{written} events written to {out}", highlight=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="events")
