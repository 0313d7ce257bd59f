"""3D imaging for robot positioning and inspection, built on Open3D.

``read_cloud`` loads point clouds and meshes in the common formats (in metres),
``register`` aligns a source cloud to a target (FPFH + RANSAC or a deterministic multi-start,
then multi-scale GICP), ``inspect_against`` measures signed deviations from a reference,
``fit_plane`` / ``fit_sphere`` / ``fit_cylinder`` fit primitives, and ``registration_errors``
scores poses against ground truth as 3DMatch does.
"""

from shigu.solutions.spatial.cloud import Cloud, read_cloud, write_cloud
from shigu.solutions.spatial.fitting import fit_cylinder, fit_plane, fit_sphere
from shigu.solutions.spatial.inspection import InspectionResult, inspect_against
from shigu.solutions.spatial.metrics import registration_errors
from shigu.solutions.spatial.registration import RegistrationOptions, RegistrationResult, register

__all__ = [
    "Cloud",
    "InspectionResult",
    "RegistrationOptions",
    "RegistrationResult",
    "fit_cylinder",
    "fit_plane",
    "fit_sphere",
    "inspect_against",
    "read_cloud",
    "register",
    "registration_errors",
    "write_cloud",
]
