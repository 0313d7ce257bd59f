"""``SceneAnalytics``: all the rules of one source, fed one frame's tracked detections at a time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from shigu.analytics.heatmap import Heatmap
from shigu.analytics.rules import (
    CrowdingRule,
    DwellRule,
    Emitted,
    FrameContext,
    LineCounter,
    SpeedingRule,
    StoppedRule,
    WrongWayRule,
    ZoneRule,
)
from shigu.analytics.tracks import TrackBook
from shigu.core.detections import Detections
from shigu.core.events import Event
from shigu.core.frame import Frame
from shigu.core.geometry import Polygon, anchors, homography


@dataclass
class ZoneSpec:
    id: str
    polygon: list[tuple[float, float]]
    rules: list[dict[str, Any]] = field(default_factory=list)
    furniture: bool = False  # a bed or sofa: lying there is not a fall


@dataclass
class LineSpec:
    id: str
    points: tuple[tuple[float, float], tuple[float, float]]
    classes: list[str] | None = None


if TYPE_CHECKING:
    from shigu.solutions.living.occupancy import OccupancyCount, OccupancyMinute

RULES_GROUP = "shigu.rules"


def rule_class(name: str) -> type[ZoneRule]:
    """A plugin zone rule by entry-point name (``shigu.rules``); unknown names list the rest."""
    from shigu.core.errors import ConfigError
    from shigu.core.plugins import plugins

    found = plugins(RULES_GROUP, ZoneRule)
    if name not in found:
        have = ", ".join(sorted(found)) or "none installed"
        raise ConfigError(
            f"unknown rule plugin {name!r}",
            f"rule plugins: {have}; a package adds one through the {RULES_GROUP!r} group",
        )
    cls: type[ZoneRule] = found[name]
    return cls


def rule_options(name: str, options: dict[str, Any]) -> Any:
    """A plugin rule's options validated against its ``Options`` model (ConfigError)."""
    from pydantic import BaseModel, ValidationError

    from shigu.core.errors import ConfigError

    cls = rule_class(name)
    model: type[BaseModel] | None = getattr(cls, "Options", None)
    if model is None:
        return options
    try:
        return model.model_validate(options)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"options.{where}: {first['msg']} (rule {name!r})") from None


def build_zone_rule(zone: ZoneSpec, rule: dict[str, Any]) -> ZoneRule:
    """One rule object from its config mapping (``type`` plus that rule's settings).

    A plugin rule (``type: plugin``) is built as ``cls(zone_id, polygon, classes, options)``
    with its options already validated against the class's ``Options`` model."""
    kind = rule["type"]
    classes = rule.get("classes")
    if kind == "plugin":
        cls = rule_class(rule["use"])
        options = rule_options(rule["use"], rule.get("options") or {})
        return cls(zone.id, zone.polygon, classes, options)  # type: ignore[call-arg]
    if kind in ("intrusion", "loitering"):
        return DwellRule(zone.id, zone.polygon, classes, rule.get("min_seconds", 0.0), kind)
    if kind == "crowding":
        return CrowdingRule(
            zone.id, zone.polygon, classes, rule["max_count"], rule.get("min_seconds", 0.0)
        )
    if kind == "wrong_way":
        return WrongWayRule(
            zone.id,
            zone.polygon,
            classes,
            rule["direction"],
            rule.get("min_seconds", 1.0),
            rule.get("min_distance", 20.0),
        )
    if kind == "stopped":
        return StoppedRule(
            zone.id, zone.polygon, classes, rule["min_seconds"], rule.get("max_move", 10.0)
        )
    if kind == "speeding":
        return SpeedingRule(
            zone.id, zone.polygon, classes, rule["max_kmh"], rule.get("min_seconds", 0.0)
        )
    if kind == "fall":
        from shigu.solutions.living.falls import FallRule

        return FallRule(
            zone.id,
            zone.polygon,
            classes,
            min_lying_seconds=rule.get("min_lying_seconds", 2.0),
            descent_seconds=rule.get("descent_seconds", 1.0),
            lying_ratio=rule.get("lying_ratio", 0.6),
        )
    if kind == "occupancy":
        from shigu.solutions.living.occupancy import OccupancyRule

        return OccupancyRule(
            zone.id,
            zone.polygon,
            classes,
            occupied_seconds=rule.get("occupied_seconds", 1.0),
            empty_seconds=rule.get("empty_seconds", 30.0),
        )
    if kind == "temperature":
        from shigu.solutions.thermal.rule import TemperatureRule

        seconds, hysteresis = rule.get("min_seconds", 0.0), rule.get("hysteresis", 1.0)
        return TemperatureRule(zone.id, zone.polygon, rule["max_celsius"], seconds, hysteresis)
    raise ValueError(f"unknown rule type {kind!r}")


class SceneAnalytics:
    """Zones, lines, speeds and a heatmap for one source."""

    def __init__(
        self,
        source: str,
        labels: Sequence[str],
        zones: Sequence[ZoneSpec] = (),
        lines: Sequence[LineSpec] = (),
        calibration: tuple[Sequence[Sequence[float]], Sequence[Sequence[float]]] | None = None,
        anchor: str = "bottom_center",
        frame_size: tuple[int, int] | None = None,
        relink_s: float = 2.0,
        heatmap: bool = True,
    ) -> None:
        self.source = source
        self.labels = list(labels)
        self.anchor = anchor
        h = homography(*calibration) if calibration is not None else None
        self.book = TrackBook(calibration=h, frame_size=frame_size, link_s=relink_s)
        self.zones = list(zones)
        self.areas = {z.id: Polygon(z.polygon) for z in self.zones}
        self.rules: list[ZoneRule] = [build_zone_rule(z, r) for z in zones for r in z.rules]
        from shigu.solutions.living.falls import FallRule
        from shigu.solutions.living.occupancy import OccupancyRule

        self._occupancy_rules = [r for r in self.rules if isinstance(r, OccupancyRule)]
        furniture = [Polygon(z.polygon) for z in self.zones if z.furniture]
        for rule in self.rules:
            if isinstance(rule, FallRule):  # where lying is not a fall
                rule.furniture = furniture
                rule.frame_size = frame_size
        self.lines = [
            LineCounter(ln.id, ln.points[0], ln.points[1], set(ln.classes) if ln.classes else None)
            for ln in lines
        ]
        self.heatmap = Heatmap(*frame_size) if frame_size and heatmap else None
        self.occupancy = {z.id: 0 for z in zones}
        self.max_occupancy = {z.id: 0 for z in zones}
        self.events = Counter[str]()
        self.last_time = 0.0
        self.speeds: dict[int, float] = {}  # track id -> max smoothed km/h
        self.speed_sums: dict[int, tuple[float, int]] = {}  # track id -> (sum, readings)
        self.track_classes: dict[int, str] = {}

    def _name(self, class_id: int) -> str:
        return self.labels[class_id] if 0 <= class_id < len(self.labels) else str(class_id)

    def update(
        self, time_s: float, frame_index: int, dets: Detections, frame: Frame | None = None
    ) -> Emitted:
        """Feed one frame's tracked detections (those with a ``tracker_id``); ``frame`` for
        rules that read the picture or its temperatures."""
        self.last_time = time_s
        if dets.tracker_id is not None and len(dets):
            ids = dets.tracker_id
            pts = anchors(dets.xyxy, self.anchor)
            names = [self._name(int(c)) for c in dets.class_id]
            seen = self.book.update(time_s, ids, pts, names, dets.confidence, dets.xyxy)
            self._attach_poses(seen, dets)
        else:
            pts = np.zeros((0, 2))
            seen = []
        gone = self.book.expire(time_s)
        if self.heatmap is not None:
            self.heatmap.add(pts)
        for z in self.zones:
            n = int(self.areas[z.id].contains(pts).sum()) if len(pts) else 0
            self.occupancy[z.id] = n
            self.max_occupancy[z.id] = max(self.max_occupancy[z.id], n)
        for m in seen:
            self.track_classes[m.track_id] = m.class_name
            if m.speed_kmh is not None:
                self.speeds[m.track_id] = max(self.speeds.get(m.track_id, 0.0), m.speed_kmh)
                total, n = self.speed_sums.get(m.track_id, (0.0, 0))
                self.speed_sums[m.track_id] = (total + m.speed_kmh, n + 1)
        ctx = FrameContext(self.source, time_s, frame_index, seen, gone, frame)
        out: Emitted = []
        for rule in self.rules:
            out.extend(rule.update(ctx))
        for line in self.lines:
            out.extend(line.update(ctx))
        for item in out:
            if isinstance(item, Event):
                self.events[item.type] += 1
        return out

    @staticmethod
    def _attach_poses(seen: list[Any], dets: Detections) -> None:
        """Each seen track's keypoints of this frame (a pose secondary model's), else None."""
        pose = dets.data.get("pose")
        age = dets.data.get("pose_age")
        for k, mem in enumerate(seen):
            if pose is None or (age is not None and int(age[k]) != 0):
                mem.pose = None
                continue
            mem.pose = pose[k] if np.isfinite(pose[k]).all() else None

    def drain_occupancy(self) -> list[OccupancyMinute | OccupancyCount]:
        """Head-count minutes finished and count changes of the occupancy rules since the last
        call (the pipeline stores the minutes and tells the sinks the counts)."""
        return [u for rule in self._occupancy_rules for u in rule.drain()]

    def finish(self) -> Emitted:
        """Close every open event (end of the source)."""
        out: Emitted = []
        for rule in self.rules:
            out.extend(rule.finish(self.last_time))
        return out

    def summary(self) -> dict[str, Any]:
        speeds = list(self.speeds.values())
        # A track's peak is its noisiest reading (far boxes jitter by pixels that are metres);
        # the typical speed is the median over tracks of each track's mean reading.
        means = [total / n for total, n in self.speed_sums.values()]
        return {
            "lines": {ln.line_id: {**ln.counts, "by_class": ln.by_class} for ln in self.lines},
            "zones": {
                z.id: {"occupancy": self.occupancy[z.id], "max_occupancy": self.max_occupancy[z.id]}
                for z in self.zones
            },
            "tracks": len(self.track_classes),
            "speed_kmh": (
                {
                    "tracks": len(speeds),
                    "median": round(float(np.median(means)), 1),
                    "mean_of_max": round(float(np.mean(speeds)), 1),
                    "max": round(float(np.max(speeds)), 1),
                }
                if speeds
                else None
            ),
        }
