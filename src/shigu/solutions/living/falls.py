"""The ``fall`` zone rule: a fast descent to the floor, then lying there for a while.

Per person (a track and the tracks the TrackBook linked to it as its continuation) the rule
follows the person's height in the picture relative to their own *upright height* (the
tallest box of the last ``reference_seconds`` before any descent), so it does not depend on
the camera's distance or resolution:

1. **Fast descent**: the height falls from at least ``upright_ratio`` of the upright height
   to at most ``lying_ratio`` of it within ``descent_seconds``. A person lying on the floor
   is at most about half as tall in the picture as standing; sitting on a chair, squatting
   and bending keep about two thirds (docs/living.md has the measurements); lying down on
   purpose takes longer than a fall's second or so.
2. **On the floor**: the person then stays low (never back above ``upright_ratio``) for
   ``min_lying_seconds``. A detector sees a lying person poorly (COCO has few of them): a
   person who drops out of sight right after the descent, away from the picture's border,
   counts as still lying until seen upright again.
   The descent must take at least two frames and 0.1 s, be seen throughout (no gap over
   0.25 s) and no faster than a falling body (3 upright heights a second between two
   boxes), start from a box not cut by the picture's side, and the box's bottom (the feet
   on the floor) may not rise by more than 15% of the upright height: a box that shrinks
   from below is a person whose legs got hidden, or a track that jumped to someone else.
3. **Not on furniture**: lying where a zone marked ``furniture: true`` is (bed, sofa) is not
   a fall: where the body rests (the box's bottom centre) decides, when the fall would be
   raised. With a pose model in the pipeline, a person standing on a straight, upright leg
   (bending over) is not down either.

The event's ``start`` is when the descent began; it ends when the person is seen upright
again (or at the end of the source). Attributes: descent time, lowest height ratio, seconds
lying, whether the person was still seen when it was decided, and the pose track of the
descent and lying (``pose_track``: [time, 17 x (x, y, score)]) when a pose model ran.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from shigu.analytics.rules import Emitted, FrameContext, ZoneRule
from shigu.analytics.tracks import TrackMemory
from shigu.core.events import Event, EventEnd
from shigu.core.geometry import Point, Polygon

LEGS = ((11, 13, 15), (12, 14, 16))  # COCO-17 hip, knee, ankle: left, right
KEYPOINT_MIN_SCORE = 0.3
MIN_DESCENT_SECONDS = 0.1  # a fall takes longer; a box that halves faster is a tracker glitch
MAX_SHRINK_PER_SECOND = 3.0  # upright heights a second: a falling body is slower (docs)
MAX_GAP_SECONDS = 0.25  # the descent must be seen throughout: no longer gap between boxes
FLOOR_RISE = 0.15  # in a fall the feet stay on the floor: the box bottom rises at most this


@dataclass
class _Sample:
    time: float
    height: float
    box: list[float]
    pose: np.ndarray | None
    side_cut: bool = False  # the box touches the left or right border: its size says little


@dataclass
class _Person:
    samples: deque[_Sample] = field(default_factory=lambda: deque(maxlen=900))
    upright: float = 0.0  # upright height in pixels, frozen during a descent
    down_since: float | None = None  # the descent ended (height below lying_ratio) here
    descent_start: float | None = None
    descent_seconds: float = 0.0
    lowest: float = 1.0
    last_seen: float = 0.0
    last_box: list[float] = field(default_factory=list)
    lost_at_border: bool = False
    open: str | None = None  # the fall event of this person, while it goes on
    pose_track: list[list[object]] = field(default_factory=list)


def standing_on_legs(pose: np.ndarray | None) -> bool:
    """True when the pose confidently shows a straight, upright leg (hip above knee above
    ankle, the hip-to-ankle drop at least 80% of the leg's length): someone bending over or
    squatting on their feet, not lying. Either side will do."""
    if pose is None or not np.isfinite(pose).all():
        return False
    for hip, knee, ankle in LEGS:
        if min(pose[hip, 2], pose[knee, 2], pose[ankle, 2]) < KEYPOINT_MIN_SCORE:
            continue
        length = float(np.hypot(*(pose[knee, :2] - pose[hip, :2]))
                       + np.hypot(*(pose[ankle, :2] - pose[knee, :2])))  # fmt: skip
        drop = float(pose[ankle, 1] - pose[hip, 1])
        if length > 0 and drop >= 0.8 * length:
            return True
    return False


class FallRule(ZoneRule):
    """Falls of people in the zone (see the module docstring)."""

    type = "fall"

    def __init__(
        self,
        zone_id: str,
        polygon: Sequence[Point],
        classes: Sequence[str] | None = None,
        min_lying_seconds: float = 2.0,
        descent_seconds: float = 1.0,
        lying_ratio: float = 0.6,
        upright_ratio: float = 0.8,
        reference_seconds: float = 4.0,
        frame_size: tuple[int, int] | None = None,
        border: float = 0.02,
    ) -> None:
        super().__init__(zone_id, polygon, classes or ["person"])
        self.min_lying_seconds = min_lying_seconds
        self.descent_seconds = descent_seconds
        self.lying_ratio = lying_ratio
        self.upright_ratio = upright_ratio
        self.reference_seconds = reference_seconds
        self.frame_size = frame_size
        self.border = border
        self.furniture: list[Polygon] = []
        self.people: dict[int, _Person] = {}

    # ------------------------------------------------------------------ helpers
    def on_furniture(self, box: list[float]) -> bool:
        """The body rests on a furniture zone (bed, sofa): the box's bottom centre, where it
        lies, is in one. (Its centre would be over the bed in the picture for someone lying
        on the floor in front of it.)"""
        if not self.furniture or len(box) != 4:
            return False
        rest = [((box[0] + box[2]) / 2, box[3])]
        return any(bool(area.contains(rest)[0]) for area in self.furniture)

    def _near_border(self, box: list[float]) -> bool:
        if self.frame_size is None or len(box) != 4:
            return False
        w, h = self.frame_size
        mx, my = self.border * w, self.border * h
        return box[0] <= mx or box[2] >= w - mx or box[1] <= my

    def _side_cut(self, box: list[float]) -> bool:
        if self.frame_size is None or len(box) != 4:
            return False
        margin = self.border * self.frame_size[0]
        return box[0] <= margin or box[2] >= self.frame_size[0] - margin

    def _in_zone(self, mem: TrackMemory) -> bool:
        return bool(self.area.contains([mem.anchor])[0])

    # ------------------------------------------------------------------ per frame
    def update(self, ctx: FrameContext) -> Emitted:
        out: Emitted = []
        now = ctx.time
        seen_ids: set[int] = set()
        for mem in ctx.seen:
            if self.classes is not None and mem.class_name not in self.classes:
                continue
            seen_ids.add(mem.identity)
            person = self.people.setdefault(mem.identity, _Person())
            self._observe(person, mem, now, ctx, out)
        for identity, person in list(self.people.items()):
            if identity in seen_ids:
                continue
            if person.down_since is not None and person.open is None:
                if person.lost_at_border:
                    self._reset(person)  # walked or fell out of the picture: cannot tell
                elif now - person.down_since >= self.min_lying_seconds:
                    if self.on_furniture(person.last_box):
                        self._reset(person)
                    else:
                        out.append(self._fire(person, ctx, None, seen=False))
            if now - person.last_seen > 60.0 and person.open is None:
                del self.people[identity]  # long gone (memory stays bounded)
        return out

    def _observe(
        self, person: _Person, mem: TrackMemory, now: float, ctx: FrameContext, out: Emitted
    ) -> None:
        height = mem.height
        pose = mem.pose
        person.samples.append(_Sample(now, height, list(mem.box), pose, self._side_cut(mem.box)))
        person.last_seen = now
        person.last_box = list(mem.box)
        person.lost_at_border = self._near_border(mem.box)
        while person.samples and now - person.samples[0].time > self.reference_seconds:
            person.samples.popleft()
        if person.down_since is None and person.open is None:
            # the upright height: the tall end of the recent past's heights (a percentile, so
            # one oversized box does not set it)
            heights = [s.height for s in person.samples if not s.side_cut] or [0.0]
            person.upright = (
                float(np.percentile(heights, 80)) if len(heights) >= 5 else max(heights)
            )
        upright = person.upright
        if upright <= 0:
            return
        ratio = height / upright
        if person.open is not None:  # fallen: the event ends when they are up again
            if ratio >= self.upright_ratio:
                out.append(EventEnd(person.open, now, {"got_up": True}))
                self._reset(person)
                person.upright = height
            return
        if person.down_since is not None:
            if ratio >= self.upright_ratio or standing_on_legs(pose):
                self._reset(person)  # up again (or bending over): no fall
                return
            person.lowest = min(person.lowest, ratio)
            self._remember_pose(person, now, pose)
            if now - person.down_since >= self.min_lying_seconds:
                if self.on_furniture(mem.box):
                    self._reset(person)  # lying on the bed or sofa
                    return
                out.append(self._fire(person, ctx, mem, seen=True))
            return
        if ratio > self.lying_ratio or not self._in_zone(mem):
            return
        if standing_on_legs(pose):
            return
        # low now: was the person upright a moment ago? (fast descent)
        start = None
        since = 0  # samples after the upright one
        later, later_height = now, height
        for s in reversed(person.samples):
            if now - s.time > self.descent_seconds or later - s.time > MAX_GAP_SECONDS:
                break  # too long ago, or the descent was not seen throughout
            if later > s.time and (s.height - later_height) / (later - s.time) > (
                MAX_SHRINK_PER_SECOND * upright
            ):
                break  # shrank faster than a falling body can: a glitch or another person
            if s.height >= self.upright_ratio * upright and not s.side_cut:
                start = s
                break
            since += 1
            later, later_height = s.time, s.height
        if start is None or since < 1 or now - start.time < MIN_DESCENT_SECONDS:
            return  # not upright a moment ago, or a box that jumped in one frame (no body does)
        if mem.box[3] < start.box[3] - FLOOR_RISE * upright:
            return  # the box shrank from below (legs hidden, another person): not a fall
        person.down_since = now
        person.descent_start = self._descent_began(person, start.time, upright)
        person.descent_seconds = now - person.descent_start
        person.lowest = ratio
        person.pose_track = [[round(s.time, 3), _pose_list(s.pose)]
                             for s in person.samples if s.time >= person.descent_start
                             and s.pose is not None]  # fmt: skip

    def _descent_began(self, person: _Person, upright_at: float, upright: float) -> float:
        """Back from the last upright sample to where the height last stood still."""
        began = upright_at
        for s in reversed(person.samples):
            if s.time > upright_at:
                continue
            if s.height < 0.95 * upright:
                began = s.time
            else:
                began = s.time
                break
        return began

    def _remember_pose(self, person: _Person, now: float, pose: np.ndarray | None) -> None:
        if pose is not None and len(person.pose_track) < 600:
            person.pose_track.append([round(now, 3), _pose_list(pose)])

    def _fire(
        self, person: _Person, ctx: FrameContext, mem: TrackMemory | None, seen: bool
    ) -> Event:
        assert person.down_since is not None and person.descent_start is not None
        box = list(mem.box) if mem is not None else list(person.last_box)
        ev = Event(
            type=self.type,
            source=ctx.source,
            start=round(person.descent_start, 3),
            zone=self.zone_id,
            track_id=mem.track_id if mem is not None else None,
            class_name=mem.class_name if mem is not None else "person",
            confidence=round(mem.confidence, 4) if mem is not None else None,
            frame_index=ctx.frame_index,
            box=box,
        )
        ev.attributes.update(
            descent_seconds=round(person.descent_seconds, 3),
            lowest_height_ratio=round(person.lowest, 3),
            lying_seconds=round(ctx.time - person.down_since, 3),
            seen=seen,
        )
        if person.pose_track:
            ev.attributes["pose_track"] = person.pose_track
        person.open = ev.id
        return ev

    def _reset(self, person: _Person) -> None:
        person.down_since = None
        person.descent_start = None
        person.open = None
        person.lowest = 1.0
        person.pose_track = []

    def finish(self, now: float) -> Emitted:
        out: Emitted = []
        for person in self.people.values():
            if person.open is not None:
                out.append(EventEnd(person.open, now, {"got_up": False}))
                person.open = None
        return out


def _pose_list(pose: np.ndarray | None) -> list[list[float]] | None:
    if pose is None:
        return None
    return np.round(np.nan_to_num(pose), 1).tolist()  # type: ignore[no-any-return]
