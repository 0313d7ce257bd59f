"""A 3D medical volume: voxels in NIfTI order (i, j, k) and the voxel-to-RAS affine in mm.

One type for every source (a DICOM series, a NIfTI file), so conversion, windowing, metrics and
masks never care where a volume came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# DICOM patient coordinates are LPS; NIfTI world coordinates are RAS
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


@dataclass
class Volume:
    """Voxels ``data[i, j, k]`` and ``affine`` mapping (i, j, k, 1) to RAS millimetres."""

    data: np.ndarray
    affine: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what was done to the geometry, for users
    # the DICOM file of each slice k, when slices map one to one onto files (not resampled)
    source_files: list[Path] = field(default_factory=list)
    window: tuple[float, float] | None = None  # the file's own (centre, width), if any

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Voxel size in mm along i, j and k."""
        lengths = np.linalg.norm(self.affine[:3, :3], axis=0)
        return (float(lengths[0]), float(lengths[1]), float(lengths[2]))

    @property
    def orientation(self) -> str:
        """The axis codes (e.g. ``LPS``, ``RAS``) the i, j, k axes point towards."""
        import nibabel as nib

        return "".join(nib.aff2axcodes(self.affine))

    @property
    def voxel_ml(self) -> float:
        """Volume of one voxel in millilitres."""
        return float(abs(np.linalg.det(self.affine[:3, :3]))) / 1000.0
