"""The ``occupancy`` zone rule: head counts of a room over time, and occupied/empty with hysteresis.

Each frame the rule counts the tracked objects of its classes (people) standing in the zone.
Per minute of media time it keeps the mean and the maximum count (:class:`OccupancyMinute`,
stored by the pipeline in the ``occupancy`` table, charted in the dashboard). A room becomes
*occupied* once someone has been in it for ``occupied_seconds`` and *empty* once nobody has
been seen in it for ``empty_seconds``: one ``occupied`` event per stay, whose end is when the
room emptied, so lights and HVAC switch once per stay and not on every missed detection.
Count changes (:class:`OccupancyCount`) go to the sinks that want them (MQTT, for Home
Assistant's sensors).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from shigu.analytics.rules import Emitted, FrameContext, ZoneRule
from shigu.core.events import Event, EventEnd
from shigu.core.geometry import Point


@dataclass(frozen=True)
class OccupancyMinute:
    """One minute of one zone's head count."""

    source: str
    zone: str
    minute: float  # media seconds at the minute's start
    wall_time: datetime  # when its first frame was seen
    mean: float
    max: int
    frames: int


@dataclass(frozen=True)
class OccupancyCount:
    """The zone's head count changed (or its occupied state did)."""

    source: str
    zone: str
    count: int
    occupied: bool
    time: float


@dataclass
class _Minute:
    start: float
    wall_time: datetime = field(default_factory=lambda: datetime.now(UTC))
    total: int = 0
    peak: int = 0
    frames: int = 0


class OccupancyRule(ZoneRule):
    """Counts people in a room; ``occupied`` events with hysteresis (module docstring)."""

    type = "occupancy"

    def __init__(
        self,
        zone_id: str,
        polygon: Sequence[Point],
        classes: Sequence[str] | None = None,
        occupied_seconds: float = 1.0,
        empty_seconds: float = 30.0,
        minute_seconds: float = 60.0,
    ) -> None:
        super().__init__(zone_id, polygon, classes or ["person"])
        self.occupied_seconds = occupied_seconds
        self.empty_seconds = empty_seconds
        self.minute_seconds = minute_seconds
        self.source = ""
        self.count = 0
        self.occupied = False
        self.open: str | None = None
        self.peak = 0
        self.someone_since: float | None = None
        self.last_someone: float | None = None
        self.minute: _Minute | None = None
        self.pending: list[OccupancyMinute | OccupancyCount] = []

    def update(self, ctx: FrameContext) -> Emitted:
        self.source = ctx.source
        now = ctx.time
        count = len(self.inside(ctx.seen))
        self._tally(now, count)
        out: Emitted = []
        if count:
            self.last_someone = now
            if self.someone_since is None:
                self.someone_since = now
            self.peak = max(self.peak, count)
            if not self.occupied and now - self.someone_since >= self.occupied_seconds:
                self.occupied = True
                ev = Event(type="occupied", source=ctx.source, start=self.someone_since,
                           zone=self.zone_id, frame_index=ctx.frame_index)  # fmt: skip
                ev.attributes["count"] = count
                self.open = ev.id
                out.append(ev)
        else:
            if not self.occupied:
                self.someone_since = None  # a moment's detection does not occupy the room
            elif self.last_someone is not None and now - self.last_someone >= self.empty_seconds:
                out += self._empty(self.last_someone)
        if count != self.count or out:
            self.pending.append(OccupancyCount(ctx.source, self.zone_id, count, self.occupied, now))
        self.count = count
        return out

    def _empty(self, at: float) -> Emitted:
        out: Emitted = []
        if self.open is not None:
            out.append(EventEnd(self.open, round(at, 3), {"max_count": self.peak}))
        self.occupied, self.open, self.peak = False, None, 0
        self.someone_since = None
        return out

    def _tally(self, now: float, count: int) -> None:
        start = math.floor(now / self.minute_seconds) * self.minute_seconds
        if self.minute is not None and self.minute.start != start:
            self._close_minute()
        if self.minute is None:
            self.minute = _Minute(start)
        self.minute.total += count
        self.minute.peak = max(self.minute.peak, count)
        self.minute.frames += 1

    def _close_minute(self) -> None:
        m = self.minute
        if m is not None and m.frames:
            mean = round(m.total / m.frames, 3)
            minute = OccupancyMinute(self.source, self.zone_id, m.start, m.wall_time, mean,
                                     m.peak, m.frames)  # fmt: skip
            self.pending.append(minute)
        self.minute = None

    def drain(self) -> list[OccupancyMinute | OccupancyCount]:
        """Minutes finished and count changes since the last call."""
        out, self.pending = self.pending, []
        return out

    def finish(self, now: float) -> Emitted:
        self._close_minute()
        out = self._empty(now) if self.occupied else []
        if self.source:  # the source ended: its rooms read empty, like their events
            self.pending.append(OccupancyCount(self.source, self.zone_id, 0, False, now))
        return out
