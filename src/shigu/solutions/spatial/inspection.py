"""Inspection against a reference: align, signed deviation per point, statistics, pass/fail.

Deviation is signed along the reference's outward normal (positive = material above the
nominal surface). Against a mesh it is the distance to the closest point on the triangles
(Open3D's ``RaycastingScene``); against a cloud, the distance to the nearest reference point's
tangent plane.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from shigu.solutions.spatial._open3d import o3d, point_cloud
from shigu.solutions.spatial.cloud import Cloud
from shigu.solutions.spatial.registration import (
    RegistrationOptions,
    RegistrationResult,
    point_spacing,
    register,
)

PERCENTILES = (1, 5, 50, 95, 99)


@dataclass
class InspectionResult:
    """Per-point signed deviations (metres, in the scan's order) and what they add up to."""

    deviations: np.ndarray
    aligned: Cloud  # the scan moved onto the reference
    registration: RegistrationResult | None
    tolerances: list[float] = field(default_factory=list)

    def stats(self) -> dict[str, float]:
        d = self.deviations
        out = {
            "points": float(len(d)),
            "mean": float(d.mean()),
            "rms": float(np.sqrt(np.mean(d**2))),
            "std": float(d.std()),
            "min": float(d.min()),
            "max": float(d.max()),
            "max_abs": float(np.abs(d).max()),
        }
        for p, value in zip(PERCENTILES, np.percentile(d, PERCENTILES), strict=True):
            out[f"p{p}"] = float(value)
        return out

    def verdicts(self, pass_share: float = 1.0) -> list[dict[str, Any]]:
        """Per tolerance: the share of points within it and pass (share >= ``pass_share``)."""
        out = []
        for tol in self.tolerances:
            share = float((np.abs(self.deviations) <= tol).mean())
            out.append({"tolerance": tol, "within_share": share, "passed": share >= pass_share})
        return out


ORIENT_MAX_POINTS = 20_000  # normals are oriented on this many points, then propagated


def _oriented_subset(points: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """Consistent orientation by tangent-plane propagation; a flat part (where Open3D's
    Delaunay step cannot work) takes the direction of its minor principal axis instead."""
    centred = points - points.mean(axis=0)
    eig, vecs = np.linalg.eigh(centred.T @ centred)
    minor = vecs[:, 0]
    if eig[0] > 1e-6 * eig[2]:
        try:
            sub = point_cloud(points, normals)
            sub.orient_normals_consistent_tangent_plane(15)
            oriented: np.ndarray = np.array(sub.normals)
            return oriented
        except RuntimeError:
            pass
    flipped: np.ndarray = np.where((normals @ minor < 0)[:, None], -normals, normals)
    return flipped


def _outward_normals(reference: Cloud) -> np.ndarray:
    """Unit normals, consistently oriented (Open3D's tangent-plane propagation), outwards."""
    if reference.normals is not None:
        normals = reference.normals / np.linalg.norm(reference.normals, axis=1, keepdims=True)
    else:
        spacing = point_spacing(reference.points)
        pcd = reference.to_open3d()
        pcd.estimate_normals(o3d().geometry.KDTreeSearchParamHybrid(radius=6 * spacing, max_nn=30))
        normals = np.asarray(pcd.normals).copy()
        # orienting is O(n log n) but slow in practice: do it on a seeded subset and let every
        # point follow its nearest oriented neighbour
        keep = np.random.default_rng(0).permutation(len(reference))[:ORIENT_MAX_POINTS]
        oriented = _oriented_subset(reference.points[keep], normals[keep])
        _, idx = cKDTree(reference.points[keep]).query(reference.points, k=1)
        flip = np.sum(normals * oriented[idx], axis=1) < 0
        normals[flip] *= -1
    # point them away from the part: most normals of a surface face away from its centre
    outward = np.sum((reference.points - reference.points.mean(axis=0)) * normals, axis=1)
    result: np.ndarray = -normals if np.median(outward) < 0 else normals
    return result


def signed_deviation(points: np.ndarray, reference: Cloud) -> np.ndarray:
    """Signed distance of each point to the reference surface (mesh) or tangent planes (cloud)."""
    if reference.mesh is not None:
        tmesh = o3d().t.geometry.TriangleMesh.from_legacy(reference.mesh)
        scene = o3d().t.geometry.RaycastingScene()
        scene.add_triangles(tmesh)
        query = o3d().core.Tensor(points.astype(np.float32))
        closest = scene.compute_closest_points(query)
        near = closest["points"].numpy().astype(np.float64)
        normal = closest["primitive_normals"].numpy().astype(np.float64)
        diff = points - near
        dist = np.linalg.norm(diff, axis=1)
        sign = np.sign(np.sum(diff * normal, axis=1))
        signed: np.ndarray = np.where(sign == 0, 1.0, sign) * dist
        return signed
    normals = _outward_normals(reference)
    _, idx = cKDTree(reference.points).query(points, k=1)
    plane: np.ndarray = np.sum((points - reference.points[idx]) * normals[idx], axis=1)
    return plane


def inspect_against(
    scan: Cloud,
    reference: Cloud,
    tolerances: list[float] | None = None,
    align: bool = True,
    options: RegistrationOptions | None = None,
) -> InspectionResult:
    """Align ``scan`` onto ``reference`` (unless ``align`` is off) and measure deviations."""
    registration = register(scan, reference, options) if align else None
    aligned = scan.transformed(registration.transform) if registration else scan
    deviations = signed_deviation(aligned.points, reference)
    return InspectionResult(deviations, aligned, registration, list(tolerances or []))


def deviation_colors(deviations: np.ndarray, limit: float) -> np.ndarray:
    """RGB in 0..1 on a diverging map: blue below, white on, red above the nominal surface."""
    import matplotlib

    cmap = matplotlib.colormaps["coolwarm"]
    scaled = np.clip(deviations / max(limit, 1e-12), -1, 1) * 0.5 + 0.5
    return np.asarray(cmap(scaled))[:, :3]


def colour_limit(result: InspectionResult) -> float:
    """Colour scale: twice the tightest tolerance, or the 99th percentile of |deviation|."""
    if result.tolerances:
        return 2 * min(result.tolerances)
    return float(np.percentile(np.abs(result.deviations), 99)) or 1e-6
