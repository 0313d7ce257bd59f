"""A plausible prediction made from a ground truth, for metric parity tests and benchmarks."""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def perturbed(gt: np.ndarray, labels: list[int]) -> np.ndarray:
    """Each label in turn dilated, shifted by one voxel, or eroded (where that leaves some)."""
    pred = np.zeros_like(gt)
    for n, value in enumerate(labels):
        mask = gt == value
        if n % 3 == 0:
            mask = ndimage.binary_dilation(mask)
        elif n % 3 == 1:
            mask = np.roll(mask, 1, axis=n % 3)
        elif ndimage.binary_erosion(mask).any():
            mask = ndimage.binary_erosion(mask)
        pred[mask & (pred == 0)] = value
    return pred
