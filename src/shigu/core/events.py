"""``Event``: something a rule decided happened, with its times, place, track and media.

This module is the one event contract. :func:`event_record` is the event as every output
shows it (store API, SQL-built pages, CSV from the CLI and the API, JSONL, MQTT, WebSocket),
with the fields of :data:`EVENT_FIELDS` in that order and ``schema`` = :data:`SCHEMA_VERSION`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

SCHEMA_VERSION = 2  # 2: box, schema, media paths and flags in every serialisation

# Every serialisation of an event carries these keys, in this order.
EVENT_FIELDS: tuple[str, ...] = (
    "schema",
    "id",
    "type",
    "source",
    "start",  # media seconds from the stream's timestamps
    "end",  # None while the event goes on
    "wall_time",  # ISO 8601, UTC: when it was decided
    "zone",
    "line",
    "track_id",
    "class_name",
    "confidence",
    "frame_index",
    "box",  # [x1, y1, x2, y2] in frame pixels, or None
    "attributes",  # direction, speed_kmh, pose, plate, temperature, ...
    "snapshot",  # media paths relative to the media root, or None
    "snapshot_crop",
    "clip",
    "has_snapshot",
    "has_clip",
    "acknowledged_by",
)
END_FIELDS: tuple[str, ...] = ("schema", "id", "end", "attributes")


def new_event_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Event:
    """One event. ``start``/``end`` are stream seconds; ``wall_time`` is when it was decided.

    ``end`` is None while the event is still going on (a track still inside a zone); the rule
    that raised it sends an :class:`EventEnd` later.
    """

    type: str
    source: str
    start: float
    end: float | None = None
    zone: str | None = None
    line: str | None = None
    track_id: int | None = None
    class_name: str | None = None
    confidence: float | None = None
    frame_index: int | None = None
    box: list[float] | None = None  # xyxy in the frame, for snapshots
    attributes: dict[str, Any] = field(default_factory=dict)
    snapshot: str | None = None  # media paths relative to the media root
    snapshot_crop: str | None = None
    clip: str | None = None
    id: str = field(default_factory=new_event_id)
    wall_time: datetime = field(default_factory=lambda: datetime.now(UTC))
    # an image to save as the crop snapshot instead of the box cut from the frame (a plate,
    # rectified); not stored or sent, dropped once the snapshots are written
    crop: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The event's record (see :func:`event_record`)."""
        return event_record(self)


@dataclass
class EventEnd:
    """Closes an ongoing event: its end time and any attributes learned meanwhile."""

    id: str
    end: float
    attributes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA_VERSION, "id": self.id, "end": self.end,
                "attributes": self.attributes}  # fmt: skip


def event_record(ev: Event, acknowledged_by: str | None = None) -> dict[str, Any]:
    """The event as every output shows it: :data:`EVENT_FIELDS`, JSON-ready."""
    crop, ev.crop = ev.crop, None  # an image is not part of the record (nor deep-copied)
    data = asdict(ev)
    ev.crop = crop
    data.update(
        schema=SCHEMA_VERSION,
        wall_time=ev.wall_time.isoformat(),
        box=None if ev.box is None else [round(float(v), 2) for v in ev.box],
        has_snapshot=bool(ev.snapshot),
        has_clip=bool(ev.clip),
        acknowledged_by=acknowledged_by,
    )
    return {k: data[k] for k in EVENT_FIELDS}


def csv_row(record: dict[str, Any]) -> dict[str, Any]:
    """A record as a CSV row: the same columns, nested values (box, attributes) as JSON."""
    return {
        k: json.dumps(record.get(k), ensure_ascii=False) if k in ("box", "attributes")
        else record.get(k)
        for k in EVENT_FIELDS
    }  # fmt: skip
