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

    @property
    def anchor(self) -> tuple[float, float]:
        return self.points[-1]

    def previous_anchor(self) -> tuple[float, float] | None:
        return self.points[-2] if len(self.points) > 1 else None

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
    """Tracks of one source, updated every frame; forgets tracks unseen for ``forget_s``."""

    def __init__(
        self,
        calibration: F64 | None = None,
        speed_window_s: float = 1.0,
        speed_smoothing: float = 0.3,
        forget_s: float = 3.0,
    ) -> None:
        self.tracks: dict[int, TrackMemory] = {}
        self.calibration = calibration
        self.speed_window_s = speed_window_s
        self.speed_smoothing = speed_smoothing
        self.forget_s = forget_s

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
