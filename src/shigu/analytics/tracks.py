"""Per-source memory of where each track has been: anchors (and world positions) over time."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from shigu.core.geometry import F64, apply_homography


@dataclass
class TrackMemory:
    """One track's recent history in one source."""

    track_id: int
    class_name: str
    first_seen: float
    last_seen: float
    confidence: float = 0.0
    box: list[float] = field(default_factory=list)
    times: deque[float] = field(default_factory=lambda: deque(maxlen=600))
    points: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=600))
    world: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=600))
    speed_kmh: float | None = None  # smoothed
    max_speed_kmh: float = 0.0
    # The object this track belongs to: its own id, or, when it continues a track lost
    # moments before (see TrackBook), that track's identity; counting goes by identity.
    identity: int = -1
    link_anchor: tuple[float, float] | None = None  # where the continued track was last seen
    has_child: bool = False
    pose: np.ndarray | None = None  # this frame's COCO-17 keypoints (x, y, score), if computed

    def __post_init__(self) -> None:
        if self.identity < 0:
            self.identity = self.track_id

    @property
    def anchor(self) -> tuple[float, float]:
        return self.points[-1]

    def previous_anchor(self) -> tuple[float, float] | None:
        """Where the object was one observation ago; for a track's first observation, where
        the track it continues was last seen."""
        if len(self.points) > 1:
            return self.points[-2]
        return self.link_anchor

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1] if len(self.box) == 4 else 0.0

    def displacement_since(self, seconds: float, world: bool = False) -> tuple[float, float, float]:
        """(dx, dy, dt) between now and the last sample at least ``seconds`` ago."""
        pts = self.world if world else self.points
        if len(self.times) < 2 or len(pts) < 2:
            return 0.0, 0.0, 0.0
        now = self.times[-1]
        for i in range(len(self.times) - 2, -1, -1):
            if now - self.times[i] >= seconds or i == 0:
                dx = pts[-1][0] - pts[i][0]
                dy = pts[-1][1] - pts[i][1]
                return dx, dy, now - self.times[i]
        return 0.0, 0.0, 0.0


class TrackBook:
    """Tracks of one source, updated every frame; forgets tracks unseen for ``forget_s``.

    A track born inside the picture next to where another track was lost moments before is
    linked to it as its continuation (it takes that track's ``identity``): trackers lose
    people behind poles and in groups and start a new id a few frames later; without the
    link an object that crossed a line during that gap is never seen crossing it, and one
    that comes back over the line later is counted twice. A link needs the lost track to
    have vanished away from the frame border (it did not just walk out) at most ``link_s``
    seconds before, and the newcomer to appear away from the border within ``link_reach``
    box heights (plus one height per second of gap) of the lost track's last anchor; each
    lost track continues into at most one new one, the nearest. Lost tracks are kept at
    least ``link_s`` (``forget_s`` is raised to it).
    """

    def __init__(
        self,
        calibration: F64 | None = None,
        speed_window_s: float = 1.0,
        speed_smoothing: float = 0.3,
        forget_s: float = 3.0,
        frame_size: tuple[int, int] | None = None,
        link_s: float = 2.0,
        link_reach: float = 0.5,
        border: float = 0.02,
    ) -> None:
        self.tracks: dict[int, TrackMemory] = {}
        self.calibration = calibration
        self.speed_window_s = speed_window_s
        self.speed_smoothing = speed_smoothing
        self.forget_s = max(forget_s, link_s)
        self.frame_size = frame_size
        self.link_s = link_s
        self.link_reach = link_reach
        self.border = border

    def update(
        self,
        time_s: float,
        ids: np.ndarray,
        anchor_points: F64,
        class_names: list[str],
        confidences: np.ndarray,
        boxes: np.ndarray,
    ) -> list[TrackMemory]:
        """Record this frame's tracks; returns the memories of the tracks seen now."""
        world = (
            apply_homography(self.calibration, anchor_points)
            if self.calibration is not None
            else None
        )
        seen = []
        for k, tid in enumerate(ids.tolist()):
            mem = self.tracks.get(tid)
            if mem is None:
                mem = TrackMemory(tid, class_names[k], time_s, time_s)
                mem.box = [float(v) for v in boxes[k]]
                self._link(mem, time_s, (float(anchor_points[k, 0]), float(anchor_points[k, 1])))
                self.tracks[tid] = mem
            mem.last_seen = time_s
            mem.confidence = float(confidences[k])
            mem.box = [float(v) for v in boxes[k]]
            mem.times.append(time_s)
            mem.points.append((float(anchor_points[k, 0]), float(anchor_points[k, 1])))
            if world is not None:
                mem.world.append((float(world[k, 0]), float(world[k, 1])))
                self._update_speed(mem)
            seen.append(mem)
        return seen

    def _near_border(self, box: list[float]) -> bool:
        if self.frame_size is None or len(box) != 4:
            return False
        w, h = self.frame_size
        mx, my = self.border * w, self.border * h
        return box[0] <= mx or box[1] <= my or box[2] >= w - mx or box[3] >= h - my

    def _link(self, mem: TrackMemory, time_s: float, anchor: tuple[float, float]) -> None:
        """Make ``mem`` (just born) the continuation of the nearest recently lost track."""
        if self.link_s <= 0 or self._near_border(mem.box):
            return  # off, or it came in from outside the picture
        best: TrackMemory | None = None
        best_distance = np.inf
        for old in self.tracks.values():
            gap = time_s - old.last_seen
            if (
                old.has_child
                or not 0 < gap <= self.link_s
                or old.class_name != mem.class_name
                or not old.points
                or self._near_border(old.box)
            ):
                continue
            last = old.points[-1]
            distance = float(np.hypot(anchor[0] - last[0], anchor[1] - last[1]))
            reach = max(old.height, mem.height) * (self.link_reach + gap)
            if distance <= reach and distance < best_distance:
                best, best_distance = old, distance
        if best is not None:
            best.has_child = True
            mem.identity = best.identity
            mem.link_anchor = best.points[-1]

    def _update_speed(self, mem: TrackMemory) -> None:
        dx, dy, dt = mem.displacement_since(self.speed_window_s, world=True)
        if dt < 0.5 * self.speed_window_s:
            return  # too short a history to say
        kmh = float(np.hypot(dx, dy) / dt * 3.6)
        a = self.speed_smoothing
        mem.speed_kmh = kmh if mem.speed_kmh is None else (1 - a) * mem.speed_kmh + a * kmh
        mem.max_speed_kmh = max(mem.max_speed_kmh, mem.speed_kmh)

    def expire(self, time_s: float) -> list[TrackMemory]:
        """Forget tracks not seen for ``forget_s``; returns them (their events end)."""
        gone = [m for m in self.tracks.values() if time_s - m.last_seen > self.forget_s]
        for m in gone:
            del self.tracks[m.track_id]
        return gone
