"""The scene on a frame: zones with how many are in them, lines with their counts.

Drawn on the pipeline's annotated video, its live view and its event snapshots, so a person
sees what the rules see.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from shigu.annotate.draw import draw_polygon

ZONE_COLOUR = (0, 200, 255)  # amber (BGR)
LINE_COLOUR = (255, 200, 0)  # cyan


def draw_scene(image: np.ndarray, scene: Any) -> np.ndarray:
    """Zones (lightly filled, ``id: occupancy``) and lines (``id in N out M`` and an arrow
    pointing to the ``in`` side) of a ``SceneAnalytics``."""
    for zone in scene.zones:
        n = scene.occupancy.get(zone.id, 0)
        draw_polygon(image, zone.polygon, ZONE_COLOUR, True, f"{zone.id}: {n}", alpha=0.12)
    for line in scene.lines:
        (x1, y1), (x2, y2) = line.p1, line.p2
        c = line.counts
        draw_polygon(
            image,
            [line.p1, line.p2],
            LINE_COLOUR,
            False,
            f"{line.line_id} in {c['in']} out {c['out']}",
        )
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        dx, dy = x2 - x1, y2 - y1
        norm = max(1e-6, float(np.hypot(dx, dy)))
        # "in" is the right-hand side of p1 -> p2 in image coordinates (y down)
        nx, ny = -dy / norm, dx / norm
        tip = (int(mx + 18 * nx), int(my + 18 * ny))
        cv2.arrowedLine(image, (int(mx), int(my)), tip, LINE_COLOUR, 2, cv2.LINE_AA, tipLength=0.4)
    return image
