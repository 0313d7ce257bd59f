"""Digital security: perimeter intrusion, loitering, crowding and people counting."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shigu.pipeline.config import Config, parse_config

Point = tuple[float, float]


def perimeter_config(
    uri: str,
    zone: Sequence[Point],
    line: tuple[Point, Point] | None = None,
    *,
    source_id: str = "cam",
    intrusion_seconds: float = 1.0,
    loitering_seconds: float = 30.0,
    crowd_limit: int | None = None,
    store_url: str = "sqlite:///shigu.db",
) -> Config:
    """A people-only pipeline: intrusion and loitering in ``zone``, optional crowding, and
    directional counting on ``line`` (see examples/security/pets_perimeter.yaml)."""
    rules: list[dict[str, Any]] = [
        {"type": "intrusion", "classes": ["person"], "min_seconds": intrusion_seconds},
        {"type": "loitering", "classes": ["person"], "min_seconds": loitering_seconds},
    ]
    if crowd_limit is not None:
        rules.append({"type": "crowding", "classes": ["person"], "max_count": crowd_limit})
    data: dict[str, Any] = {
        "sources": [{"id": source_id, "uri": uri}],
        "pipeline": {"detector": {"classes": ["person"]}, "tracker": {"type": "bytetrack"}},
        "zones": [{"id": "perimeter", "source": source_id, "polygon": list(zone), "rules": rules}],
        "lines": (
            [{"id": "entrance", "source": source_id, "points": list(line), "classes": ["person"]}]
            if line
            else []
        ),
        "store": {"url": store_url},
    }
    return parse_config(data, "security.perimeter_config")
