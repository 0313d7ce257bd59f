"""Roadside perception: vehicle counting, speed, wrong-way driving and stopped vehicles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shigu.pipeline.config import Config, parse_config

Point = tuple[float, float]
VEHICLES = ["car", "truck", "bus", "motorcycle"]


def vehicle_counting_config(
    uri: str,
    road: Sequence[Point],
    count_line: tuple[Point, Point],
    calibration: tuple[Sequence[Point], Sequence[Point]] | None = None,
    *,
    source_id: str = "road",
    speed_limit_kmh: float | None = None,
    allowed_direction: Point | None = None,
    stopped_seconds: float = 10.0,
    store_url: str = "sqlite:///shigu.db",
) -> Config:
    """Count vehicles over ``count_line``; with a calibration (image points → metres), also
    speeds and speeding; stopped vehicles in ``road``; wrong way against
    ``allowed_direction`` (see examples/traffic/bridge_counting.yaml)."""
    rules: list[dict[str, Any]] = [
        {"type": "stopped", "classes": VEHICLES, "min_seconds": stopped_seconds}
    ]
    if speed_limit_kmh is not None:
        rules.append({"type": "speeding", "classes": VEHICLES, "max_kmh": speed_limit_kmh})
    if allowed_direction is not None:
        rules.append({"type": "wrong_way", "classes": VEHICLES, "direction": allowed_direction})
    source: dict[str, Any] = {"id": source_id, "uri": uri}
    if calibration is not None:
        source["calibration"] = {"image": list(calibration[0]), "world": list(calibration[1])}
    data: dict[str, Any] = {
        "sources": [source],
        "pipeline": {"detector": {"classes": VEHICLES}, "tracker": {"type": "bytetrack"}},
        "zones": [{"id": "road", "source": source_id, "polygon": list(road), "rules": rules}],
        "lines": [{"id": "count", "source": source_id, "points": list(count_line)}],
        "store": {"url": store_url},
    }
    return parse_config(data, "traffic.vehicle_counting_config")
