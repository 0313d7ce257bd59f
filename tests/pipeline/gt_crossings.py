"""True line crossings from MOTChallenge ground-truth tracks (independent of Shigu's code)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _side(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])


def _intersects(p, q, a, b) -> bool:  # type: ignore[no-untyped-def]
    d1, d2 = _side(p, a, b), _side(q, a, b)
    d3, d4 = _side(a, p, q), _side(b, p, q)
    return (d1 < 0 <= d2 or d2 < 0 <= d1) and (d3 < 0 <= d4 or d4 < 0 <= d3)


def ground_truth_crossings(
    gt_file: Path, p1: tuple[float, float], p2: tuple[float, float], scale: float = 1.0
) -> dict[str, int]:
    """Count, per direction, GT tracks whose bottom-centre crosses segment p1→p2 (each track
    at most once per direction; ``in`` = towards the right-hand side of p1→p2, y down)."""
    rows = np.loadtxt(gt_file, delimiter=",")
    rows = rows[rows[:, 6] != 0]
    counts = {"in": 0, "out": 0}
    for tid in np.unique(rows[:, 1]):
        tr = rows[rows[:, 1] == tid]
        tr = tr[np.argsort(tr[:, 0])]
        x = (tr[:, 2] + tr[:, 4] / 2) * scale
        y = (tr[:, 3] + tr[:, 5]) * scale
        seen: set[str] = set()
        for k in range(1, len(tr)):
            p, q = (x[k - 1], y[k - 1]), (x[k], y[k])
            if not _intersects(p, q, p1, p2):
                continue
            before, after = _side(p, p1, p2), _side(q, p1, p2)
            direction = "in" if before < 0 <= after else "out" if after < 0 <= before else None
            if direction and direction not in seen:
                seen.add(direction)
                counts[direction] += 1
    return counts
