"""Segmentations from any of the three formats users hold, as masks on a volume grid.

- label NIfTI: one label per voxel value (0 is background);
- DICOM SEG (highdicom): one mask per segment (segments may overlap), on the SEG's own
  geometry (its plane positions), so no source images are needed;
- DICOM RTSTRUCT: closed planar contours rasterised onto the image grid they reference
  (voxel centres inside the polygon; several contours on one slice combine by the even-odd
  rule, so an inner contour is a hole), which needs that image series.

Every grid carries its voxel-to-RAS affine; `on_grid` moves masks onto another grid when the
two differ only by axis order and direction (the same voxel centres), and refuses otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from shigu.core.errors import InputError
from shigu.solutions.medical.volume import LPS_TO_RAS, Volume


@dataclass
class LabelMasks:
    """Binary masks by label id on one grid, with the names the file gives them."""

    masks: dict[int, np.ndarray]
    affine: np.ndarray
    shape: tuple[int, int, int]
    names: dict[int, str] = field(default_factory=dict)
    source: str = ""

    @property
    def spacing(self) -> tuple[float, float, float]:
        lengths = np.linalg.norm(self.affine[:3, :3], axis=0)
        return (float(lengths[0]), float(lengths[1]), float(lengths[2]))

    def label_map(self) -> np.ndarray:
        """One label per voxel (the highest label wins where masks overlap)."""
        out = np.zeros(self.shape, dtype=np.uint16)
        for label in sorted(self.masks):
            out[self.masks[label]] = label
        return out


def _modality(path: Path) -> str:
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        return str(pydicom.dcmread(path, stop_before_pixels=True).get("Modality", ""))
    except (InvalidDicomError, OSError, EOFError, ValueError) as exc:
        raise InputError(
            f"{path} is neither NIfTI nor readable DICOM ({exc})",
            "give a label NIfTI, a DICOM SEG or an RTSTRUCT",
        ) from exc


def read_labels(path: Path, image: Path | None = None) -> LabelMasks:
    """Masks from a label NIfTI, a DICOM SEG or an RTSTRUCT (``image``: its CT/MR series;
    by default the series it references, looked for in the RTSTRUCT's folder)."""
    from shigu.solutions.medical.nifti import is_nifti, read_nifti

    if not path.exists():
        raise InputError(f"{path} does not exist", "give a label NIfTI, DICOM SEG or RTSTRUCT")
    if path.is_file() and is_nifti(path):
        return from_label_volume(read_nifti(path), str(path))
    if path.is_dir():
        raise InputError(f"{path} is a folder", "give the SEG or RTSTRUCT file itself")
    modality = _modality(path)
    if modality == "SEG":
        return read_dicom_seg(path)
    if modality == "RTSTRUCT":
        return read_rtstruct(path, image)
    raise InputError(
        f"{path} is a DICOM {modality or 'file'}, not a segmentation",
        "give a label NIfTI, a DICOM SEG or an RTSTRUCT",
    )


def from_label_volume(volume: Volume, source: str = "") -> LabelMasks:
    data = np.asarray(volume.data)
    if not np.issubdtype(data.dtype, np.integer):
        if np.abs(data - np.round(data)).max(initial=0) > 1e-3:
            raise InputError(
                f"{source or 'the volume'} holds fractional values, not labels",
                "threshold probabilities into a label map first",
            )
        data = np.round(data).astype(np.int64)
    if data.min(initial=0) < 0:
        raise InputError(
            f"{source} holds negative values: it is an image, not a label map",
            "give the segmentation, not the scan",
        )
    values = sorted(set(np.unique(data).tolist()) - {0})
    if len(values) > 1000:
        raise InputError(
            f"{source} holds {len(values)} distinct values: not a label map",
            "give the segmentation, not the scan",
        )
    masks = {int(v): data == v for v in values}
    return LabelMasks(masks, volume.affine, tuple(data.shape), {}, source)


def read_dicom_seg(path: Path) -> LabelMasks:
    """A DICOM SEG's segments as masks on its own grid (fractional segments at >= 0.5)."""
    import highdicom as hd

    try:
        seg = hd.seg.segread(str(path))
        volume = seg.get_volume(combine_segments=False)
    except Exception as exc:  # highdicom raises many types for unusual or damaged SEGs
        raise InputError(
            f"cannot read the DICOM SEG {path} ({type(exc).__name__}: {exc})",
            "check that it is a complete, single-frame-of-reference SEG",
        ) from exc
    array = np.asarray(volume.array)  # (slices, rows, columns, segments)
    numbers = list(seg.segment_numbers)
    names = {int(s.SegmentNumber): str(s.SegmentLabel) for s in seg.SegmentSequence}
    if array.ndim == 3:
        array = array[..., None]
    fractional = str(seg.segmentation_type.value) == "FRACTIONAL"
    # highdicom's volume axes are (k, row, column) with an LPS affine; reorder to (i, j, k) RAS
    affine = LPS_TO_RAS @ np.asarray(volume.affine, dtype=np.float64)
    perm = np.array([2, 1, 0])
    affine_ijk = affine.copy()
    affine_ijk[:3, :3] = affine[:3, :3][:, perm]
    shape = tuple(array.shape[:3][::-1])
    # dcm2niix's layout, as `load_series`: j from the bottom row up, k along the slice normal
    flips = [1]
    normal = np.cross(affine_ijk[:3, 0], affine_ijk[:3, 1])  # row x column direction
    if np.dot(normal, affine_ijk[:3, 2]) < 0:
        flips.append(2)
    for axis in flips:
        affine_ijk[:3, 3] += affine_ijk[:3, axis] * (shape[axis] - 1)
        affine_ijk[:3, axis] *= -1
    masks = {}
    for index, number in enumerate(numbers):
        values = array[..., index].astype(np.float64)
        if fractional and values.max(initial=0) > 1.0:
            values = values / float(seg.MaximumFractionalValue)
        mask = (values >= 0.5 if fractional else values > 0).transpose(2, 1, 0)
        masks[int(number)] = np.ascontiguousarray(np.flip(mask, axis=tuple(flips)))
    return LabelMasks(masks, affine_ijk, shape, names, str(path))


def _referenced_series(rt: Any) -> str | None:
    try:
        ref = rt.ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0]
        return str(ref.RTReferencedSeriesSequence[0].SeriesInstanceUID)
    except (AttributeError, IndexError):
        return None


def read_rtstruct(path: Path, image: Path | None = None) -> LabelMasks:
    """An RTSTRUCT's ROIs rasterised onto the image series they were drawn on."""
    import pydicom
    from skimage.draw import polygon as fill_polygon

    from shigu.solutions.medical.dicom import load_series

    rt = pydicom.dcmread(path)
    series_uid = _referenced_series(rt)
    folder = image or path.parent
    try:
        volume = load_series(folder, series_uid)
    except InputError as exc:
        raise InputError(
            f"the image series of {path.name} was not found ({exc.message})",
            "pass --image with the CT/MR folder the structures were drawn on",
        ) from exc
    inverse = np.linalg.inv(volume.affine)
    shape = tuple(volume.data.shape)
    names = {int(r.ROINumber): str(r.ROIName) for r in rt.get("StructureSetROISequence", [])}
    masks: dict[int, np.ndarray] = {}
    for roi in rt.get("ROIContourSequence", []):
        number = int(roi.ReferencedROINumber)
        mask = np.zeros(shape, dtype=bool)
        for contour in roi.get("ContourSequence", []):
            kind = str(contour.get("ContourGeometricType", "CLOSED_PLANAR"))
            points = np.asarray(contour.ContourData, dtype=np.float64).reshape(-1, 3)
            if kind != "CLOSED_PLANAR" or len(points) < 3:
                continue  # points and open polylines enclose no volume
            ras = LPS_TO_RAS[:3, :3] @ points.T
            ijk = (inverse[:3, :3] @ ras + inverse[:3, 3:4]).T
            k = round(float(np.median(ijk[:, 2])))
            if not 0 <= k < shape[2] or np.abs(ijk[:, 2] - k).max() > 0.1:
                raise InputError(
                    f"a contour of ROI {names.get(number, number)} in {path.name} does not lie "
                    "on a slice of the image series",
                    "pass --image with the series it was drawn on",
                )
            ii, jj = fill_polygon(ijk[:, 0], ijk[:, 1], shape=shape[:2])
            layer = np.zeros(shape[:2], dtype=bool)
            layer[ii, jj] = True
            mask[:, :, k] ^= layer  # even-odd: a contour inside another is a hole
        masks[number] = mask
    return LabelMasks(masks, volume.affine, shape, names, str(path))


def on_grid(labels: LabelMasks, affine: np.ndarray, shape: tuple[int, ...]) -> LabelMasks:
    """``labels`` on the grid (``affine``, ``shape``): axes permuted or flipped as needed.
    Refuses grids whose voxel centres differ (that needs resampling, which changes scores)."""
    import nibabel as nib
    from nibabel.orientations import (
        apply_orientation,
        inv_ornt_aff,
        io_orientation,
        ornt_transform,
    )

    if tuple(labels.shape) == tuple(shape) and np.allclose(labels.affine, affine, atol=1e-3):
        return labels
    transform = ornt_transform(io_orientation(labels.affine), io_orientation(affine))
    moved = {k: apply_orientation(m, transform) for k, m in labels.masks.items()}
    new_affine = labels.affine @ inv_ornt_aff(transform, labels.shape)
    new_shape = next(iter(moved.values())).shape if moved else shape
    if tuple(new_shape) != tuple(shape) or not np.allclose(new_affine, affine, atol=1e-2):
        codes_a = "".join(nib.aff2axcodes(labels.affine))
        codes_b = "".join(nib.aff2axcodes(affine))
        raise InputError(
            f"{labels.source or 'the prediction'} ({'x'.join(map(str, labels.shape))} {codes_a}) "
            f"is not on the ground truth's grid ({'x'.join(map(str, shape))} {codes_b})",
            "resample the prediction onto the ground truth's grid first (nearest neighbour)",
        )
    grid = (int(shape[0]), int(shape[1]), int(shape[2]))
    return LabelMasks(moved, affine, grid, labels.names, labels.source)
