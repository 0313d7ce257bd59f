"""Rigid transforms: angles, quaternions, Euler angles and the errors between two poses."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from shigu.core.errors import InputError


def check_rigid(transform: np.ndarray, what: str = "transform") -> np.ndarray:
    """A 4x4 float array whose top-left 3x3 is a rotation, or a one-line error."""
    t = np.asarray(transform, dtype=np.float64)
    if t.shape != (4, 4) or not np.isfinite(t).all():
        raise InputError(f"{what} is not a finite 4x4 matrix (shape {t.shape})", "")
    rot = t[:3, :3]
    if not np.allclose(rot @ rot.T, np.eye(3), atol=1e-4) or np.linalg.det(rot) < 0:
        raise InputError(f"{what} is not a rigid transform (its 3x3 part is no rotation)", "")
    return t


def rotation_angle_deg(rot: np.ndarray) -> float:
    """The angle of a rotation matrix, in degrees (0..180)."""
    cos = (np.trace(rot) - 1.0) / 2.0
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def describe(transform: np.ndarray) -> dict[str, Any]:
    """The forms a controller or a person reads: angle, translation, Euler xyz, quaternion."""
    rot = Rotation.from_matrix(transform[:3, :3])
    x, y, z, w = rot.as_quat()
    return {
        "transform": [[float(v) for v in row] for row in transform],
        "rotation_deg": rotation_angle_deg(transform[:3, :3]),
        "translation": [float(v) for v in transform[:3, 3]],
        "euler_xyz_deg": [float(v) for v in rot.as_euler("xyz", degrees=True)],
        "quaternion_wxyz": [float(w), float(x), float(y), float(z)],
    }


def random_pose(rng: np.random.Generator, max_translation: float) -> np.ndarray:
    """A uniformly random rotation with a translation up to ``max_translation`` per axis."""
    t = np.eye(4)
    t[:3, :3] = Rotation.random(random_state=rng).as_matrix()
    t[:3, 3] = rng.uniform(-max_translation, max_translation, 3)
    return t
