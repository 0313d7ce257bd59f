"""Window/level and slice pictures: DICOM's window function and radiological orientation."""

from __future__ import annotations

import numpy as np
import pytest

from shigu.core.errors import InputError
from shigu.solutions.medical import Volume
from shigu.solutions.medical.render import (
    apply_window,
    canonical,
    default_window,
    parse_window,
    render_slice,
)


def test_window_is_dicoms_linear_function() -> None:
    values = np.array([-1000.0, 0.0, 39.5, 40.0, 79.0, 80.0, 1000.0])
    out = apply_window(values, 40.0, 80.0)
    # PS3.3 C.11.2.1.2: below c - 0.5 - (w-1)/2 is 0, above c - 0.5 + (w-1)/2 is 255
    expected = np.clip(((values - 39.5) / 79 + 0.5) * 255, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(out, expected)
    assert out[0] == 0 and out[-1] == 255 and 120 <= out[2] <= 135


def test_parse_window() -> None:
    ct = Volume(np.full((4, 4, 4), -1000, np.int16), np.eye(4), {"Modality": "CT"})
    assert parse_window("brain", ct) == (40.0, 80.0)
    assert parse_window("-600,1500", ct) == (-600.0, 1500.0)
    assert parse_window("auto", ct) == (50.0, 400.0)
    with pytest.raises(InputError, match="carries no window"):
        parse_window("file", ct)
    with pytest.raises(InputError, match="not a preset"):
        parse_window("bright", ct)
    with pytest.raises(InputError, match="width of at least 1"):
        parse_window("40,0", ct)
    mr = Volume(np.arange(1000, dtype=np.float32).reshape(10, 10, 10), np.eye(4))
    centre, width = default_window(mr)
    assert 490 < centre < 510 and 970 < width < 990  # 1st to 99th percentile


def test_radiological_orientation_from_any_storage_order() -> None:
    # a marker at the patient's right, anterior, superior corner, stored LPS-ordered
    # (dcm2niix's layout flips rows, so i grows to the left, j to the front)
    data = np.zeros((20, 30, 10), np.int16)
    data[0, 29, 9] = 1000  # i = 0 is the rightmost column (LAS), j = 29 the front, k = 9 the top
    affine = np.diag([-1.0, 1.0, 2.0, 1.0])  # L A S with 2 mm slices
    ras, spacing, _ = canonical(Volume(data, affine))
    assert spacing == (1.0, 1.0, 2.0)
    axial = render_slice(ras, spacing, "axial", 9, (500.0, 100.0))
    ys, xs = np.nonzero(axial[..., 0])
    assert (ys.min(), xs.min()) == (0, 0)  # anterior at the top, patient's right on the left
    coronal = render_slice(ras, spacing, "coronal", 29, (500.0, 100.0))
    assert coronal.shape[:2] == (20, 20)  # 10 slices of 2 mm shown 20 px high
    ys, xs = np.nonzero(coronal[..., 0])
    assert ys.min() == 0 and xs.min() == 0  # head at the top, right on the left
    sagittal = render_slice(ras, spacing, "sagittal", 19, (500.0, 100.0))
    ys, xs = np.nonzero(sagittal[..., 0])
    assert ys.min() == 0 and xs.min() == 0  # head at the top, anterior on the left
    with pytest.raises(InputError, match="outside"):
        render_slice(ras, spacing, "axial", 10, (0.0, 1.0))
