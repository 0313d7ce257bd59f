"""``Event``: something a rule decided happened, with its times, place, track and media."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any


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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (ISO wall time)."""
        out = asdict(self)
        out["wall_time"] = self.wall_time.isoformat()
        return out


@dataclass
class EventEnd:
    """Closes an ongoing event: its end time and any attributes learned meanwhile."""

    id: str
    end: float
    attributes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "end": self.end, "attributes": self.attributes}
