"""Rules that turn track histories into events: zones (intrusion, loitering, crowding,
wrong way, stopped, speeding) and directional line counting.

Every rule sees, each frame, the tracks of its source (``TrackMemory``) and returns new
``Event``s and ``EventEnd``s for events that finished. Rules know nothing of threads or I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from shigu.analytics.tracks import TrackMemory
from shigu.core.events import Event, EventEnd
from shigu.core.frame import Frame
from shigu.core.geometry import Point, Polygon, segments_intersect, side_of_point

Emitted = list[Event | EventEnd]


@dataclass
class FrameContext:
    """What every rule gets for one frame of one source."""

    source: str
    time: float
    frame_index: int
    seen: list[TrackMemory]  # tracks present in this frame
    gone: list[TrackMemory]  # tracks forgotten this frame
    frame: Frame | None = None  # the frame itself, for rules that read pixels (temperature)


def _event(
    rule_type: str, ctx: FrameContext, mem: TrackMemory, start: float, **kw: object
) -> Event:
    return Event(
        type=rule_type,
        source=ctx.source,
        start=start,
        track_id=mem.track_id,
        class_name=mem.class_name,
        confidence=round(mem.confidence, 4),
        frame_index=ctx.frame_index,
        box=list(mem.box),
        **kw,  # type: ignore[arg-type]
    )


class ZoneRule:
    """Base for rules bound to one polygon zone, with a class filter."""

    type = "zone"

    def __init__(
        self, zone_id: str, polygon: Sequence[Point], classes: Sequence[str] | None
    ) -> None:
        self.zone_id = zone_id
        self.polygon = np.asarray(polygon, dtype=np.float64)
        self.area = Polygon(self.polygon)
        self.classes = set(classes) if classes else None

    def inside(self, seen: list[TrackMemory]) -> list[TrackMemory]:
        """Tracks of the right class whose anchor is in the zone now."""
        cand = [m for m in seen if self.classes is None or m.class_name in self.classes]
        if not cand:
            return []
        mask = self.area.contains([m.anchor for m in cand])
        return [m for m, ok in zip(cand, mask, strict=True) if ok]

    def update(self, ctx: FrameContext) -> Emitted:
        raise NotImplementedError

    def finish(self, now: float) -> Emitted:
        """End whatever is still open (end of the source)."""
        return []


class DwellRule(ZoneRule):
    """A track stays in the zone for ``min_seconds``: ``intrusion`` (short) or ``loitering``.

    The event starts when the track entered and ends when it leaves or disappears; its
    ``dwell`` attribute is the seconds spent inside.
    """

    def __init__(
        self,
        zone_id: str,
        polygon: Sequence[Point],
        classes: Sequence[str] | None,
        min_seconds: float,
        rule_type: str = "intrusion",
    ) -> None:
        super().__init__(zone_id, polygon, classes)
        self.min_seconds = min_seconds
        self.type = rule_type
        self.entered: dict[int, float] = {}
        self.open: dict[int, str] = {}  # track id -> open event id

    def update(self, ctx: FrameContext) -> Emitted:
        out: Emitted = []
        inside = {m.track_id: m for m in self.inside(ctx.seen)}
        present = {m.track_id for m in ctx.seen}
        for tid, mem in inside.items():
            entered = self.entered.setdefault(tid, ctx.time)
            if tid not in self.open and ctx.time - entered >= self.min_seconds:
                ev = _event(self.type, ctx, mem, entered, zone=self.zone_id)
                ev.attributes["dwell"] = round(ctx.time - entered, 3)
                self.open[tid] = ev.id
                out.append(ev)
        # tracks seen outside the zone, or forgotten, leave it
        left = [t for t in self.entered if (t in present and t not in inside)]
        left += [m.track_id for m in ctx.gone if m.track_id in self.entered]
        for tid in left:
            entered = self.entered.pop(tid)
            if tid in self.open:
                out.append(
                    EventEnd(self.open.pop(tid), ctx.time, {"dwell": round(ctx.time - entered, 3)})
                )
        return out

    def finish(self, now: float) -> Emitted:
        out: Emitted = [
            EventEnd(eid, now, {"dwell": round(now - self.entered.get(tid, now), 3)})
            for tid, eid in self.open.items()
        ]
        self.open.clear()
        self.entered.clear()
        return out


class CrowdingRule(ZoneRule):
    """More than ``max_count`` tracks in the zone for ``min_seconds``: ``crowding``."""

    type = "crowding"

    def __init__(
        self,
        zone_id: str,
        polygon: Sequence[Point],
        classes: Sequence[str] | None,
        max_count: int,
        min_seconds: float,
    ) -> None:
        super().__init__(zone_id, polygon, classes)
        self.max_count = max_count
        self.min_seconds = min_seconds
        self.since: float | None = None
        self.open: str | None = None
        self.peak = 0

    def update(self, ctx: FrameContext) -> Emitted:
        count = len(self.inside(ctx.seen))
        if count > self.max_count:
            self.peak = max(self.peak, count)
            if self.since is None:
                self.since = ctx.time
            if self.open is None and ctx.time - self.since >= self.min_seconds:
                ev = Event(
                    "crowding",
                    ctx.source,
                    self.since,
                    zone=self.zone_id,
                    frame_index=ctx.frame_index,
                )
                ev.attributes.update(count=count, threshold=self.max_count)
                self.open = ev.id
                return [ev]
            return []
        self.since = None
        if self.open is not None:
            end = EventEnd(self.open, ctx.time, {"max_count": self.peak})
            self.open, self.peak = None, 0
            return [end]
        self.peak = 0
        return []

    def finish(self, now: float) -> Emitted:
        if self.open is None:
            return []
        end = EventEnd(self.open, now, {"max_count": self.peak})
        self.open = None
        return [end]


class WrongWayRule(ZoneRule):
    """A track in the zone moves against the zone's allowed ``direction`` (image dx, dy)."""

    type = "wrong_way"

    def __init__(
        self,
        zone_id: str,
        polygon: Sequence[Point],
        classes: Sequence[str] | None,
        direction: Sequence[float],
        min_seconds: float = 1.0,
        min_distance: float = 20.0,
    ) -> None:
        super().__init__(zone_id, polygon, classes)
        d = np.asarray(direction, dtype=np.float64)
        self.direction = d / max(float(np.linalg.norm(d)), 1e-9)
        self.min_seconds = min_seconds
        self.min_distance = min_distance
        self.fired: set[int] = set()

    def update(self, ctx: FrameContext) -> Emitted:
        out: Emitted = []
        for mem in self.inside(ctx.seen):
            if mem.track_id in self.fired:
                continue
            dx, dy, dt = mem.displacement_since(self.min_seconds)
            dist = math.hypot(dx, dy)
            if dt < self.min_seconds or dist < self.min_distance:
                continue
            cos = (dx * self.direction[0] + dy * self.direction[1]) / dist
            if cos < -0.5:
                self.fired.add(mem.track_id)
                ev = _event("wrong_way", ctx, mem, ctx.time - dt, zone=self.zone_id, end=ctx.time)
                ev.attributes["angle_deg"] = round(math.degrees(math.acos(max(-1.0, cos))), 1)
                out.append(ev)
        for mem in ctx.gone:
            self.fired.discard(mem.track_id)
        return out


class StoppedRule(ZoneRule):
    """A track in the zone moves less than ``max_move`` pixels for ``min_seconds``:
    ``stopped`` (illegal parking, a stalled vehicle). Ends when it moves off or disappears."""

    type = "stopped"

    def __init__(
        self,
        zone_id: str,
        polygon: Sequence[Point],
        classes: Sequence[str] | None,
        min_seconds: float,
        max_move: float = 10.0,
    ) -> None:
        super().__init__(zone_id, polygon, classes)
        self.min_seconds = min_seconds
        self.max_move = max_move
        self.open: dict[int, tuple[str, float]] = {}

    def update(self, ctx: FrameContext) -> Emitted:
        out: Emitted = []
        still: set[int] = set()
        for mem in self.inside(ctx.seen):
            dx, dy, dt = mem.displacement_since(self.min_seconds)
            if dt >= self.min_seconds and math.hypot(dx, dy) <= self.max_move:
                still.add(mem.track_id)
                if mem.track_id not in self.open:
                    ev = _event("stopped", ctx, mem, ctx.time - dt, zone=self.zone_id)
                    self.open[mem.track_id] = (ev.id, ev.start)
                    out.append(ev)
        gone = {m.track_id for m in ctx.gone}
        seen = {m.track_id for m in ctx.seen}
        for tid in list(self.open):
            if tid in gone or (tid in seen and tid not in still):
                eid, start = self.open.pop(tid)
                out.append(EventEnd(eid, ctx.time, {"stopped_seconds": round(ctx.time - start, 3)}))
        return out

    def finish(self, now: float) -> Emitted:
        out: Emitted = [
            EventEnd(eid, now, {"stopped_seconds": round(now - start, 3)})
            for eid, start in self.open.values()
        ]
        self.open.clear()
        return out


class SpeedingRule(ZoneRule):
    """A calibrated track in the zone goes faster than ``max_kmh`` (smoothed) for at least
    ``min_seconds`` without a break: ``speeding``. A one-frame peak of a far, jittery box is
    not a speeding car; ``min_seconds`` 0 fires on the first reading above the limit."""

    type = "speeding"

    def __init__(
        self,
        zone_id: str,
        polygon: Sequence[Point],
        classes: Sequence[str] | None,
        max_kmh: float,
        min_seconds: float = 0.0,
    ) -> None:
        super().__init__(zone_id, polygon, classes)
        self.max_kmh = max_kmh
        self.min_seconds = min_seconds
        self.fired: set[int] = set()
        self.above_since: dict[int, float] = {}

    def update(self, ctx: FrameContext) -> Emitted:
        out: Emitted = []
        inside = {mem.track_id for mem in self.inside(ctx.seen)}
        for mem in self.inside(ctx.seen):
            tid = mem.track_id
            if tid in self.fired:
                continue
            if mem.speed_kmh is None or mem.speed_kmh <= self.max_kmh:
                self.above_since.pop(tid, None)
                continue
            since = self.above_since.setdefault(tid, ctx.time)
            if ctx.time - since < self.min_seconds:
                continue
            self.fired.add(tid)
            ev = _event("speeding", ctx, mem, since, zone=self.zone_id, end=ctx.time)
            ev.attributes.update(speed_kmh=round(mem.speed_kmh, 1), limit_kmh=self.max_kmh)
            if self.min_seconds:
                ev.attributes["over_limit_s"] = round(ctx.time - since, 2)
            out.append(ev)
        for tid in list(self.above_since):
            if tid not in inside:
                del self.above_since[tid]  # left the zone or lost: the run above the limit ends
        for mem in ctx.gone:
            self.fired.discard(mem.track_id)
        return out


@dataclass
class _Crossing:
    direction: str
    time: float
    frame_index: int
    box: list[float]
    confirmations: int = 1


@dataclass
class LineCounter:
    """Counts tracks whose anchor crosses the segment p1→p2: ``in`` towards the right-hand side
    of the direction p1→p2 (image coordinates), ``out`` the other way; each object counts at
    most once per direction (an object is a track together with the tracks the TrackBook
    linked to it as its continuation). Emits a ``line_crossing`` event per count.

    A crossing counts once the track has stayed on the new side for ``confirm`` observations
    (the crossing itself included): a box that jitters back and forth over the line while a
    person stands on it, or that flickers during an occlusion, does not count both ways.
    Two observations are enough for that; more lose real crossings at low frame rates (a
    7 fps camera needs 0.43 s for three, and tracks that switch identity right after the line
    never confirm: on PETS2009 three undercounted the centre line by 2 of 14, two by 1).
    """

    line_id: str
    p1: tuple[float, float]
    p2: tuple[float, float]
    classes: set[str] | None = None
    confirm: int = 2
    counts: dict[str, int] = field(default_factory=lambda: {"in": 0, "out": 0})
    by_class: dict[str, dict[str, int]] = field(default_factory=dict)
    counted: set[tuple[int, str]] = field(default_factory=set)  # (identity, direction)
    pending: dict[int, _Crossing] = field(default_factory=dict)

    def update(self, ctx: FrameContext) -> Emitted:
        out: Emitted = []
        for mem in ctx.seen:
            if self.classes is not None and mem.class_name not in self.classes:
                continue
            prev = mem.previous_anchor()
            if prev is None:
                continue
            cur = mem.anchor
            tid = mem.track_id
            side_prev = side_of_point(prev, self.p1, self.p2)
            side_cur = side_of_point(cur, self.p1, self.p2)
            crossing = self.pending.get(tid)
            if crossing is not None:
                on_new_side = (side_cur >= 0) == (crossing.direction == "in")
                if not on_new_side:
                    del self.pending[tid]  # went back: no crossing
                    continue
                crossing.confirmations += 1
            elif segments_intersect(prev, cur, self.p1, self.p2):
                if side_prev < 0 <= side_cur:
                    direction = "in"
                elif side_prev >= 0 > side_cur:
                    direction = "out"
                else:
                    continue  # touched the line without changing sides
                if (mem.identity, direction) in self.counted:
                    continue
                crossing = _Crossing(direction, ctx.time, ctx.frame_index, list(mem.box))
                self.pending[tid] = crossing
            else:
                continue
            if crossing.confirmations >= self.confirm:
                del self.pending[tid]
                out.append(self._count(ctx, mem, crossing))
        for mem in ctx.gone:  # crossed, then left the picture before confirming: it counts
            crossing = self.pending.pop(mem.track_id, None)
            if crossing is not None:
                out.append(self._count(ctx, mem, crossing))
            if not mem.has_child:  # the object is gone for good: forget what it counted
                self.counted.discard((mem.identity, "in"))
                self.counted.discard((mem.identity, "out"))
        return out

    def _count(self, ctx: FrameContext, mem: TrackMemory, crossing: _Crossing) -> Event:
        direction = crossing.direction
        self.counted.add((mem.identity, direction))
        self.counts[direction] += 1
        per = self.by_class.setdefault(mem.class_name, {"in": 0, "out": 0})
        per[direction] += 1
        ev = _event("line_crossing", ctx, mem, crossing.time, line=self.line_id, end=crossing.time)
        ev.attributes["direction"] = direction
        if mem.speed_kmh is not None:
            ev.attributes["speed_kmh"] = round(mem.speed_kmh, 1)
        return ev

    def finish(self, now: float) -> Emitted:
        return []
