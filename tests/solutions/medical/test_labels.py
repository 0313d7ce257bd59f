"""Segmentations from DICOM SEG, RTSTRUCT and label NIfTI, on the grids they belong to."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from shapely.geometry import Polygon

from shigu.core.errors import InputError
from shigu.solutions.medical import Volume
from shigu.solutions.medical.labels import from_label_volume, on_grid, read_labels

pytestmark = pytest.mark.integration


def test_rtstruct_contours_rasterised_with_holes(medical_dir: Path) -> None:
    folder = medical_dir / "rtstruct"
    labels = read_labels(folder / "rt.dcm")  # the CT slices are found beside it
    assert labels.names == {1: "ROI-1"} and labels.shape == (512, 512, 2)
    rt = pydicom.dcmread(folder / "rt.dcm")
    contours = [
        np.asarray(c.ContourData, float).reshape(-1, 3)
        for c in rt.ROIContourSequence[0].ContourSequence
    ]
    outer, inner = sorted((Polygon(c[:, :2]) for c in contours), key=lambda p: -p.area)
    assert outer.contains(inner)  # the second contour is a hole
    mask = labels.masks[1]
    area_mm2 = mask.sum() * labels.spacing[0] * labels.spacing[1]
    expected = outer.area - inner.area
    perimeter = outer.length + inner.length
    # voxel centres inside: the rasterised area is within half a voxel along the boundary
    assert abs(area_mm2 - expected) < 0.5 * labels.spacing[0] * perimeter
    assert mask[:, :, 0].sum() == mask.sum()  # both contours lie on the first slice (z = 60)
    i, j = np.argwhere(mask[:, :, 0]).mean(axis=0)
    centre_ras = labels.affine @ np.array([i, j, 0, 1.0])
    np.testing.assert_allclose(-centre_ras[:2], outer.centroid.coords[0], atol=1.0)  # LPS


def test_dicom_seg_binary_and_fractional_agree(medical_dir: Path) -> None:
    folder = medical_dir / "dicom_seg_sr"
    binary = read_labels(folder / "seg_image_ct_binary.dcm")
    fractional = read_labels(folder / "seg_image_ct_binary_fractional.dcm")
    assert binary.names == {1: "first segment"} and binary.shape == (16, 16, 3)
    np.testing.assert_array_equal(binary.masks[1], fractional.masks[1])
    overlap = read_labels(folder / "seg_image_ct_binary_overlap.dcm")
    assert set(overlap.masks) == {1, 2} and all(m.any() for m in overlap.masks.values())


def test_grids_matched_by_axis_order_or_refused() -> None:
    data = np.zeros((4, 5, 6), dtype=np.uint8)
    data[1, 2, 3] = 2
    affine = np.diag([2.0, 3.0, 4.0, 1.0])
    labels = from_label_volume(Volume(data, affine), "a")
    # the same voxels stored with i flipped and j/k swapped
    flipped = np.flip(data, 0).transpose(0, 2, 1)
    aff = np.array([[-2.0, 0, 0, 6.0], [0, 0, 3.0, 0], [0, 4.0, 0, 0], [0, 0, 0, 1]])
    moved = on_grid(from_label_volume(Volume(flipped, aff), "b"), affine, data.shape)
    np.testing.assert_array_equal(moved.masks[2], labels.masks[2])
    with pytest.raises(InputError, match="not on the ground truth's grid"):
        on_grid(labels, np.diag([1.0, 1.0, 1.0, 1.0]), data.shape)
    with pytest.raises(InputError, match="image, not a label map"):
        from_label_volume(Volume(data.astype(np.int16) - 1000, affine), "ct.nii.gz")
