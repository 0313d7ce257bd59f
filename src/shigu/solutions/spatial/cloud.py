"""Point clouds in and out: PLY, PCD, XYZ, NPY, KITTI ``.bin``, LAS/LAZ, meshes, depth images.

Every cloud is held in metres. Files carry no unit (except LAS), so the caller states it
(``units="mm"``) and the points are converted on reading; writing converts back.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from shigu.core.errors import InputError
from shigu.solutions.spatial._open3d import o3d, point_cloud, vector3d

UNITS = {"m": 1.0, "cm": 0.01, "mm": 0.001, "um": 1e-6, "in": 0.0254, "ft": 0.3048}
CLOUD_SUFFIXES = (".ply", ".pcd", ".xyz", ".xyzn", ".xyzrgb", ".pts", ".txt", ".csv", ".npy")
MESH_SUFFIXES = (".stl", ".obj", ".off", ".gltf", ".glb")
OTHER_SUFFIXES = (".bin", ".las", ".laz")
WRITE_SUFFIXES = (".ply", ".pcd", ".xyz", ".npy")


@dataclass
class Cloud:
    """Points (N, 3) in metres, with optional normals, colours (0..1) and the source mesh."""

    points: np.ndarray
    normals: np.ndarray | None = None
    colors: np.ndarray | None = None
    mesh: Any = None  # o3d.geometry.TriangleMesh (metres) when read from a mesh file
    path: Path | None = None
    units: str = "m"
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.points.shape[0])

    @property
    def extent(self) -> np.ndarray:
        """Axis-aligned bounding-box size (x, y, z) in metres."""
        return np.ptp(self.points, axis=0) if len(self) else np.zeros(3)

    @property
    def diagonal(self) -> float:
        """Bounding-box diagonal in metres: the cloud's scale."""
        return float(np.linalg.norm(self.extent))

    def to_open3d(self) -> Any:
        pcd = point_cloud(self.points, self.normals)
        if self.colors is not None:
            pcd.colors = vector3d(self.colors)
        return pcd

    def transformed(self, transform: np.ndarray) -> Cloud:
        """A copy moved by a 4x4 rigid transform (points, normals and mesh)."""
        rot, trans = transform[:3, :3], transform[:3, 3]
        mesh = None
        if self.mesh is not None:
            mesh = o3d().geometry.TriangleMesh(self.mesh)
            mesh.transform(transform)
        return Cloud(
            self.points @ rot.T + trans,
            None if self.normals is None else self.normals @ rot.T,
            self.colors,
            mesh,
            self.path,
            self.units,
            list(self.notes),
        )


def unit_scale(units: str) -> float:
    """Metres per unit, or an error naming the accepted units."""
    try:
        return UNITS[units.lower()]
    except KeyError:
        raise InputError(f"unknown unit {units!r}", f"use one of {', '.join(UNITS)}") from None


def read_cloud(
    path: str | Path,
    units: str = "m",
    mesh_samples: int = 100_000,
    drop_invalid: bool = False,
    min_points: int = 1,
) -> Cloud:
    """Read a point cloud or a mesh (sampled uniformly, seeded) and convert it to metres.

    Non-finite points are an error unless ``drop_invalid`` (organised scans mark missing
    returns with NaN); so is a file that holds fewer than ``min_points`` points.
    """
    path = Path(path)
    scale = unit_scale(units)
    if not path.exists():
        raise InputError(f"file not found: {path}", "check the path")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a point cloud file", "give a file")
    suffix = path.suffix.lower()
    mesh = None
    normals = colors = None
    if suffix in MESH_SUFFIXES or (suffix == ".ply" and _ply_has_faces(path)):
        mesh = _read_mesh(path)
        mesh.scale(scale, center=np.zeros(3))
        points, normals = _sample_mesh(mesh, mesh_samples)
    elif suffix == ".npy":
        points = _read_npy(path)
    elif suffix in (".txt", ".csv"):
        points = _read_text(path)
    elif suffix == ".bin":
        points = _read_kitti(path)
    elif suffix in (".las", ".laz"):
        points = _read_las(path)
    elif suffix in CLOUD_SUFFIXES:
        pcd = o3d().io.read_point_cloud(str(path), remove_nan_points=False)
        points = np.asarray(pcd.points, dtype=np.float64)
        if len(points) == 0:
            raise InputError(
                f"{path} holds no points or is not a {suffix} point cloud", "check the file"
            )
        normals = np.asarray(pcd.normals) if pcd.has_normals() else None
        colors = np.asarray(pcd.colors) if pcd.has_colors() else None
    else:
        known = ", ".join(CLOUD_SUFFIXES + MESH_SUFFIXES + OTHER_SUFFIXES)
        raise InputError(f"{path}: unknown point cloud format {suffix!r}", f"use one of {known}")
    cloud = Cloud(points * scale if mesh is None else points, normals, colors, mesh, path, units)
    _check_points(cloud, drop_invalid, min_points)
    return cloud


def _check_points(cloud: Cloud, drop_invalid: bool, min_points: int) -> None:
    finite = np.isfinite(cloud.points).all(axis=1)
    bad = int((~finite).sum())
    if bad:
        if not drop_invalid:
            raise InputError(
                f"{cloud.path} has {bad} of {len(cloud)} points that are NaN or infinite",
                "pass --drop-invalid to drop them",
            )
        cloud.points = cloud.points[finite]
        if cloud.normals is not None:
            cloud.normals = cloud.normals[finite]
        if cloud.colors is not None:
            cloud.colors = cloud.colors[finite]
        cloud.notes.append(f"dropped {bad} non-finite points")
    if len(cloud) < min_points:
        raise InputError(
            f"{cloud.path} has {len(cloud)} valid points; at least {min_points} are needed",
            "give a denser cloud",
        )


def _ply_has_faces(path: Path) -> bool:
    with path.open("rb") as f:
        head = f.read(4096)
    if not head.startswith(b"ply"):
        raise InputError(f"{path} is not a PLY file (no 'ply' header)", "check the file")
    end = head.find(b"end_header")
    header = head[: end if end >= 0 else len(head)].decode("ascii", "replace")
    for line in header.splitlines():
        parts = line.split()
        if parts[:2] == ["element", "face"] and len(parts) > 2 and parts[2] != "0":
            return True
    return False


def _read_mesh(path: Path) -> Any:
    mesh = o3d().io.read_triangle_mesh(str(path))
    if len(mesh.triangles) == 0:
        raise InputError(f"{path} holds no triangles or is not a mesh file", "check the file")
    mesh.remove_duplicated_vertices()
    mesh.remove_degenerate_triangles()
    mesh.compute_triangle_normals()
    mesh.compute_vertex_normals()
    return mesh


def _sample_mesh(mesh: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniform area-weighted samples of the surface, seeded so every run samples the same."""
    tri = np.asarray(mesh.triangles)
    verts = np.asarray(mesh.vertices)
    a, b, c = verts[tri[:, 0]], verts[tri[:, 1]], verts[tri[:, 2]]
    cross = np.cross(b - a, c - a)
    area = np.linalg.norm(cross, axis=1)
    if not np.isfinite(area).all() or area.sum() <= 0:
        raise InputError("the mesh has no surface area (degenerate triangles)", "check the file")
    rng = np.random.default_rng(0)
    pick = rng.choice(len(tri), size=n, p=area / area.sum())
    u, v = rng.random(n), rng.random(n)
    flip = u + v > 1
    u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
    points = a[pick] + u[:, None] * (b - a)[pick] + v[:, None] * (c - a)[pick]
    normals = cross[pick] / np.maximum(area[pick], 1e-300)[:, None]
    return points, normals


def _as_xyz(array: np.ndarray, path: Path) -> np.ndarray:
    if array.ndim != 2 or array.shape[1] < 3 or not np.issubdtype(array.dtype, np.number):
        raise InputError(
            f"{path} holds an array of shape {array.shape}, not N x 3 points",
            "save points as an (N, 3) array",
        )
    return np.ascontiguousarray(array[:, :3], dtype=np.float64)


def _read_npy(path: Path) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise InputError(f"{path} is not a NumPy .npy array ({exc})", "check the file") from exc
    return _as_xyz(np.asarray(array), path)


def _read_text(path: Path) -> np.ndarray:
    delimiter = "," if path.suffix.lower() == ".csv" else None
    try:
        array = np.loadtxt(path, delimiter=delimiter, ndmin=2, comments="#")
    except ValueError as exc:
        raise InputError(
            f"{path} is not a table of x y z numbers ({exc})", "check the file"
        ) from exc
    return _as_xyz(array, path)


def _read_kitti(path: Path) -> np.ndarray:
    size = path.stat().st_size
    if size == 0 or size % 16:
        raise InputError(
            f"{path} is {size} bytes, not a KITTI scan (float32 x, y, z, intensity records)",
            "check the file",
        )
    return np.fromfile(path, dtype="<f4").reshape(-1, 4)[:, :3].astype(np.float64)


def _read_las(path: Path) -> np.ndarray:
    try:
        import laspy
    except ModuleNotFoundError as exc:
        raise InputError("LAS/LAZ needs laspy", "pip install 'shigu[spatial]'") from exc
    try:
        las = laspy.read(path)
    except Exception as exc:  # laspy raises its own and OS errors for broken files
        raise InputError(
            f"{path} is not a readable LAS/LAZ file ({exc})", "check the file"
        ) from exc
    return np.column_stack([np.asarray(las.x), np.asarray(las.y), np.asarray(las.z)]).astype(
        np.float64
    )


def depth_to_cloud(
    depth: str | Path | np.ndarray,
    fx: float,
    fy: float,
    cx: float,
    cy: float,
    depth_scale: float = 1000.0,
    max_depth: float = 10.0,
) -> Cloud:
    """Back-project a depth image (raw units per metre ``depth_scale``, 0 = no return)."""
    if isinstance(depth, (str, Path)):
        import cv2

        image = cv2.imread(str(depth), cv2.IMREAD_UNCHANGED)
        if image is None:
            raise InputError(f"cannot read depth image {depth}", "give a 16-bit PNG or TIFF")
        path: Path | None = Path(depth)
    else:
        image, path = depth, None
    if image.ndim != 2:
        raise InputError(f"depth image has shape {image.shape}, expected one channel", "")
    if min(fx, fy) <= 0:
        raise InputError("focal lengths must be positive", "check --intrinsics fx,fy,cx,cy")
    z = image.astype(np.float64) / depth_scale
    v, u = np.nonzero((z > 0) & (z <= max_depth) & np.isfinite(z))
    zs = z[v, u]
    points = np.column_stack([(u - cx) * zs / fx, (v - cy) * zs / fy, zs])
    cloud = Cloud(points, path=path)
    _check_points(cloud, False, 1)
    return cloud


def write_cloud(path: str | Path, cloud: Cloud, units: str = "m") -> Path:
    """Write points (and colours, normals) atomically, converting metres to ``units``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITE_SUFFIXES:
        raise InputError(
            f"cannot write {path}: unknown cloud format", f"use {', '.join(WRITE_SUFFIXES)}"
        )
    scale = 1.0 / unit_scale(units)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if suffix == ".npy":
            np.save(tmp, cloud.points * scale)
        else:
            out = Cloud(cloud.points * scale, cloud.normals, cloud.colors).to_open3d()
            if not o3d().io.write_point_cloud(str(tmp), out, write_ascii=suffix == ".xyz"):
                raise InputError(f"could not write {path}", "check the folder is writable")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
