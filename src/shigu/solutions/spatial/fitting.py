"""Primitive fitting: plane, sphere and cylinder, each RANSAC for outliers then least squares.

The plane's RANSAC is Open3D's ``segment_plane`` (seeded); spheres and cylinders, which Open3D
does not fit, use a seeded RANSAC over minimal samples and SciPy's ``least_squares`` on the
geometric distance. Each returns its parameters, the inlier share and the RMS residual.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from shigu.core.errors import InputError
from shigu.solutions.spatial._open3d import o3d, point_cloud

RANSAC_ITERATIONS = 1000


@dataclass
class PrimitiveFit:
    """A fitted shape: its parameters (metres), inliers and residuals."""

    shape: str
    params: dict[str, Any]
    inliers: int
    inlier_share: float
    rms: float  # metres, over inliers
    threshold: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check(points: np.ndarray, need: int, what: str) -> np.ndarray:
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 3 or len(pts) < need:
        raise InputError(f"a {what} fit needs at least {need} points, got {len(pts)}", "")
    return pts


def default_threshold(points: np.ndarray) -> float:
    """Inlier distance when none is given: 1% of the cloud's bounding-box diagonal."""
    return float(np.linalg.norm(np.ptp(points, axis=0))) / 100.0


def fit_plane(points: np.ndarray, threshold: float | None = None, seed: int = 0) -> PrimitiveFit:
    """Plane ``n·x + d = 0``; flatness is the peak-to-valley of the inliers' distances."""
    pts = _check(points, 3, "plane")
    thr = threshold or default_threshold(pts)
    o3d().utility.random.seed(seed)
    _, idx = point_cloud(pts).segment_plane(thr, 3, RANSAC_ITERATIONS)
    inl = pts[np.asarray(idx, dtype=np.int64)]
    centre = inl.mean(axis=0)
    _, _, vt = np.linalg.svd(inl - centre, full_matrices=False)
    normal = vt[2] / np.linalg.norm(vt[2])
    dist = (inl - centre) @ normal
    return PrimitiveFit(
        "plane",
        {
            "normal": normal.tolist(),
            "d": float(-normal @ centre),
            "centre": centre.tolist(),
            "flatness": float(np.ptp(dist)),
        },
        len(inl),
        len(inl) / len(pts),
        float(np.sqrt(np.mean(dist**2))),
        thr,
    )


def _sphere_algebraic(p: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares sphere (3-D) or circle (2-D) through points: |x|^2 = 2 c.x + k."""
    a = np.c_[2 * p, np.ones(len(p))]
    b = (p**2).sum(axis=1)
    sol, *_ = np.linalg.lstsq(a, b, rcond=None)
    centre = sol[:-1]
    return centre, float(np.sqrt(max(sol[-1] + centre @ centre, 0.0)))


def _ransac_round(
    pts: np.ndarray, sample_size: int, thr: float, seed: int
) -> tuple[int, np.ndarray, float]:
    """Best (inliers, centre, radius) of seeded minimal-sample sphere/circle fits."""
    rng = np.random.default_rng(seed)
    best: tuple[int, np.ndarray, float] = (-1, np.zeros(pts.shape[1]), 0.0)
    for _ in range(RANSAC_ITERATIONS):
        centre, radius = _sphere_algebraic(pts[rng.choice(len(pts), sample_size, replace=False)])
        if not np.isfinite(radius) or radius <= 0:
            continue
        n = int((np.abs(np.linalg.norm(pts - centre, axis=1) - radius) < thr).sum())
        if n > best[0]:
            best = (n, centre, radius)
    return best


def fit_sphere(points: np.ndarray, threshold: float | None = None, seed: int = 0) -> PrimitiveFit:
    """Sphere: centre and radius (a diameter for the caliper-minded)."""
    pts = _check(points, 4, "sphere")
    thr = threshold or default_threshold(pts)
    best = _ransac_round(pts, 4, thr, seed)
    if best[0] < 4:
        raise InputError("no sphere found in the points", "check the shape or raise --threshold")
    _, centre, radius = best
    inl = pts[np.abs(np.linalg.norm(pts - centre, axis=1) - radius) < thr]
    sol = least_squares(
        lambda x: np.linalg.norm(inl - x[:3], axis=1) - x[3], np.r_[centre, radius]
    ).x
    res = np.linalg.norm(inl - sol[:3], axis=1) - sol[3]
    return PrimitiveFit(
        "sphere",
        {"centre": sol[:3].tolist(), "radius": float(sol[3]), "diameter": float(2 * sol[3])},
        len(inl),
        len(inl) / len(pts),
        float(np.sqrt(np.mean(res**2))),
        thr,
    )


def _cylinder_residuals(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    point, axis, radius = x[:3], x[3:6] / np.linalg.norm(x[3:6]), x[6]
    residuals: np.ndarray = np.linalg.norm(np.cross(p - point, axis), axis=1) - radius
    return residuals


def fit_cylinder(points: np.ndarray, threshold: float | None = None, seed: int = 0) -> PrimitiveFit:
    """Cylinder: axis (the direction the surface normals are all perpendicular to), radius.

    The axis comes from the normals' covariance, the section from a RANSAC circle fit in the
    plane across the axis, then all seven parameters are refined on the geometric distance.
    """
    pts = _check(points, 6, "cylinder")
    thr = threshold or default_threshold(pts)
    pcd = point_cloud(pts)
    spacing = float(np.linalg.norm(np.ptp(pts, axis=0))) / 50
    pcd.estimate_normals(o3d().geometry.KDTreeSearchParamHybrid(radius=2 * spacing, max_nn=30))
    normals = np.asarray(pcd.normals)
    _, vecs = np.linalg.eigh(normals.T @ normals)
    axis = vecs[:, 0]
    u = np.cross(axis, [1.0, 0.0, 0.0] if abs(axis[0]) < 0.9 else [0.0, 1.0, 0.0])
    u /= np.linalg.norm(u)
    v = np.cross(axis, u)
    flat = np.c_[pts @ u, pts @ v]
    best = _ransac_round(flat, 3, thr, seed)
    if best[0] < 6:
        raise InputError("no cylinder found in the points", "check the shape or raise --threshold")
    _, centre2, radius = best
    point = centre2[0] * u + centre2[1] * v
    inl = pts[np.abs(_cylinder_residuals(np.r_[point, axis, radius], pts)) < thr]
    sol = least_squares(_cylinder_residuals, np.r_[point, axis, radius], args=(inl,)).x
    axis = sol[3:6] / np.linalg.norm(sol[3:6])
    along = (inl - sol[:3]) @ axis
    point = sol[:3] + along.mean() * axis  # the axis point at the middle of the inliers
    res = _cylinder_residuals(sol, inl)
    return PrimitiveFit(
        "cylinder",
        {
            "axis_point": point.tolist(),
            "axis": axis.tolist(),
            "radius": float(abs(sol[6])),
            "diameter": float(2 * abs(sol[6])),
            "length": float(np.ptp(along)),
        },
        len(inl),
        len(inl) / len(pts),
        float(np.sqrt(np.mean(res**2))),
        thr,
    )


FITTERS = {"plane": fit_plane, "sphere": fit_sphere, "cylinder": fit_cylinder}
