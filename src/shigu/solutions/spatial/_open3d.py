"""Import Open3D once, turning a missing package or system library into a Shigu error."""

from __future__ import annotations

from functools import cache
from typing import Any

from shigu.core.errors import ShiguError


@cache
def o3d() -> Any:
    """The ``open3d`` module, or a one-line error saying what to install."""
    try:
        import open3d
    except ModuleNotFoundError as exc:
        raise ShiguError(
            "3D needs Open3D, which is not installed", "pip install 'shigu[spatial]'"
        ) from exc
    except ImportError as exc:  # a system library Open3D links against is missing
        raise ShiguError(
            f"Open3D could not load ({exc})",
            "on Debian/Ubuntu install it with: apt-get install libusb-1.0-0 libgomp1",
        ) from exc
    open3d.utility.set_verbosity_level(open3d.utility.VerbosityLevel.Error)
    return open3d


def vector3d(points: Any) -> Any:
    """An ``o3d.utility.Vector3dVector`` from an (N, 3) array."""
    return o3d().utility.Vector3dVector(points)


def point_cloud(points: Any, normals: Any = None) -> Any:
    """An ``o3d.geometry.PointCloud`` from (N, 3) arrays of points and optional normals."""
    pcd = o3d().geometry.PointCloud()
    pcd.points = vector3d(points)
    if normals is not None:
        pcd.normals = vector3d(normals)
    return pcd
