"""Plane geometry for zones, lines and calibration: polygons, segments, homographies."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
Point = Sequence[float]


def anchors(xyxy: npt.ArrayLike, anchor: str = "bottom_center") -> F64:
    """(N, 2) reference points of boxes: ``bottom_center`` (feet, wheels) or ``center``."""
    b = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
    x = (b[:, 0] + b[:, 2]) * 0.5
    if anchor == "center":
        y = (b[:, 1] + b[:, 3]) * 0.5
    elif anchor == "bottom_center":
        y = b[:, 3]
    elif anchor == "top_center":
        y = b[:, 1]
    else:
        raise ValueError(f"unknown anchor {anchor!r}")
    return np.stack([x, y], axis=1)


class Polygon:
    """A polygon ready for many point-in-polygon tests (even-odd rule; the boundary counts as
    inside only where the crossing test says so, fine for tracking anchors). A zone is tested
    against a few anchors every frame, where numpy's per-call cost dominated (100 us for 6
    points): few points take a plain loop over the edges (6 us), many a vectorised pass."""

    def __init__(self, polygon: npt.ArrayLike) -> None:
        poly = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
        self.x1, self.y1 = poly[:, 0][None, :], poly[:, 1][None, :]
        self.x2, self.y2 = np.roll(poly[:, 0], -1)[None, :], np.roll(poly[:, 1], -1)[None, :]
        self.edges = list(
            zip(
                self.x1[0].tolist(),
                self.y1[0].tolist(),
                self.x2[0].tolist(),
                self.y2[0].tolist(),
                strict=True,
            )
        )

    def contains(self, points: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """(N,) bool for (N, 2) points."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if len(p) <= 32:
            out = []
            for x, y in p.tolist():
                inside = False
                for x1, y1, x2, y2 in self.edges:  # the same arithmetic as the vectorised pass
                    if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                        inside = not inside
                out.append(inside)
            return np.asarray(out, dtype=bool)
        px, py = p[:, 0:1], p[:, 1:2]
        straddles = (self.y1 > py) != (self.y2 > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_cross = self.x1 + (py - self.y1) * (self.x2 - self.x1) / (self.y2 - self.y1)
        crossings = straddles & (px < x_cross)
        return np.asarray(crossings.sum(axis=1) % 2 == 1)


def points_in_polygon(points: npt.ArrayLike, polygon: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Even-odd rule point-in-polygon for many points at once (``Polygon.contains``; keep a
    ``Polygon`` when the same polygon is tested again and again)."""
    return Polygon(polygon).contains(points)


def _orient(a: Point, b: Point, c: Point) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def segments_intersect(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Whether closed segments ab and cd share a point."""
    o1, o2, o3, o4 = _orient(a, b, c), _orient(a, b, d), _orient(c, d, a), _orient(c, d, b)
    if ((o1 > 0) != (o2 > 0)) and ((o3 > 0) != (o4 > 0)) and o1 and o2 and o3 and o4:
        return True

    def on(p: Point, q: Point, r: Point, o: float) -> bool:
        return (
            o == 0
            and min(p[0], q[0]) <= r[0] <= max(p[0], q[0])
            and min(p[1], q[1]) <= r[1] <= max(p[1], q[1])
        )

    return on(a, b, c, o1) or on(a, b, d, o2) or on(c, d, a, o3) or on(c, d, b, o4)


def polygon_problem(polygon: Sequence[Point]) -> str | None:
    """Why a polygon is unusable as a zone (too few points, zero area, self-intersecting)."""
    n = len(polygon)
    if n < 3:
        return f"a polygon needs at least 3 points, got {n}"
    for i in range(n):
        a, b = polygon[i], polygon[(i + 1) % n]
        for j in range(i + 1, n):
            if j == i or (j + 1) % n == i or j == (i + 1) % n:
                continue  # neighbouring edges share a vertex
            c, d = polygon[j], polygon[(j + 1) % n]
            if segments_intersect(a, b, c, d):
                return f"the polygon intersects itself (edges {i} and {j} cross)"
    pts = np.asarray(polygon, dtype=np.float64)
    area = 0.5 * float(
        np.dot(pts[:, 0], np.roll(pts[:, 1], -1)) - np.dot(np.roll(pts[:, 0], -1), pts[:, 1])
    )
    if abs(area) < 1e-9:
        return "the polygon has zero area"
    return None


def side_of_point(point: Point, p1: Point, p2: Point) -> float:
    """``side_of_line`` for one point, without numpy's per-call cost (the same arithmetic)."""
    return (p2[0] - p1[0]) * (point[1] - p1[1]) - (p2[1] - p1[1]) * (point[0] - p1[0])


def side_of_line(points: npt.ArrayLike, p1: Point, p2: Point) -> F64:
    """Signed side of each point w.r.t. the directed line p1→p2 in image coordinates (y down):
    positive on the right-hand side of the direction of travel, negative on the left."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    dx, dy = p2[0] - p1[0], p2[1] - p1[1]
    # with y pointing down, the cross product's sign flips relative to maths axes
    out: F64 = dx * (p[:, 1] - p1[1]) - dy * (p[:, 0] - p1[0])
    return out


def crosses_segment(a: Point, b: Point, p1: Point, p2: Point) -> bool:
    """Whether the move a→b crosses the segment p1p2 (within its extent)."""
    return segments_intersect(a, b, p1, p2)


def homography(image_points: Sequence[Point], world_points: Sequence[Point]) -> F64:
    """3x3 matrix mapping image pixels to world metres from four (or more) correspondences."""
    src = np.asarray(image_points, dtype=np.float64)
    dst = np.asarray(world_points, dtype=np.float64)
    if src.shape != dst.shape or src.shape[0] < 4 or src.shape[1] != 2:
        raise ValueError("calibration needs the same number (>= 4) of image and world points")
    rows = []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y, -u])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y, -v])
    _, s, vt = np.linalg.svd(np.asarray(rows))
    if s[-2] < 1e-9 * s[0]:
        raise ValueError("calibration points are degenerate (three of them on one line?)")
    h: F64 = vt[-1].reshape(3, 3)
    out: F64 = h / h[2, 2]
    return out


def apply_homography(h: F64, points: npt.ArrayLike) -> F64:
    """Map (N, 2) points through a 3x3 homography."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    ph = np.concatenate([p, np.ones((len(p), 1))], axis=1) @ h.T
    out: F64 = ph[:, :2] / ph[:, 2:3]
    return out
