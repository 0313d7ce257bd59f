"""CT masks that need no model: body, lungs and bone from Hounsfield thresholds and morphology.

The thresholds are textbook values, not fitted to any scan:

- body: tissue above -500 HU (halfway between air, -1000, and fat, about -100), opened once
  to cut thin contacts (table, cables, blankets), the largest connected component, holes filled
  slice by slice (so lungs and bowel gas are inside it);
- lungs: air below -400 HU inside the body, opened once, in components of at least 2 ml whose
  median is above -920 HU: lung parenchyma sits around -700 to -900 HU, gas in the bowel or
  stomach near -1000 HU, so the median tells them apart where size and place cannot;
- bone: above 200 HU inside the body (the usual "bone" threshold), closed once and filled
  slice by slice (the cortical shell encloses the marrow), components of at least 0.5 ml.

Slices are taken along the axis closest to the patient's head-foot direction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from shigu.solutions.medical.volume import Volume

BODY_HU = -500.0
LUNG_HU = -400.0
LUNG_MEDIAN_HU = -920.0
LUNG_MIN_ML = 2.0
BONE_HU = 200.0
BONE_MIN_ML = 0.5

MASK_NAMES = ("body", "lungs", "bone")


@dataclass
class CtMasks:
    """The three masks on the CT's grid, and their volumes."""

    body: np.ndarray
    lungs: np.ndarray
    bone: np.ndarray
    voxel_ml: float

    def volumes_ml(self) -> dict[str, float]:
        return {name: float(getattr(self, name).sum()) * self.voxel_ml for name in MASK_NAMES}

    def label_map(self) -> np.ndarray:
        """1 body, 2 lungs, 3 bone (later ones over earlier ones)."""
        out = np.zeros(self.body.shape, dtype=np.uint8)
        for value, name in enumerate(MASK_NAMES, start=1):
            out[getattr(self, name)] = value
        return out


def axial_axis(affine: np.ndarray) -> int:
    """The voxel axis that points most along the head-foot (S) direction."""
    directions = affine[:3, :3] / np.linalg.norm(affine[:3, :3], axis=0)
    return int(np.argmax(np.abs(directions[2])))


def _fill_slices(mask: np.ndarray, axis: int) -> np.ndarray:
    out = np.moveaxis(mask.copy(), axis, 0)
    for k in range(out.shape[0]):
        out[k] = ndimage.binary_fill_holes(out[k])
    return np.moveaxis(out, 0, axis)


def _components(mask: np.ndarray) -> tuple[np.ndarray, int]:
    labels, count = ndimage.label(mask)
    return labels, int(count)


def body_mask(hu: np.ndarray, axis: int) -> np.ndarray:
    tissue = ndimage.binary_opening(hu > BODY_HU)
    labels, count = _components(tissue)
    if count == 0:
        return np.zeros(hu.shape, dtype=bool)
    sizes = ndimage.sum_labels(tissue, labels, np.arange(1, count + 1))
    body = labels == (1 + int(np.argmax(sizes)))
    return _fill_slices(body, axis)


def lung_mask(hu: np.ndarray, body: np.ndarray, voxel_ml: float) -> np.ndarray:
    air = ndimage.binary_opening(body & (hu < LUNG_HU))
    labels, _ = _components(air)
    lungs = np.zeros(hu.shape, dtype=bool)
    for index, piece in enumerate(ndimage.find_objects(labels), start=1):
        if piece is None:
            continue
        member = labels[piece] == index
        if member.sum() * voxel_ml < LUNG_MIN_ML:
            continue
        if float(np.median(hu[piece][member])) > LUNG_MEDIAN_HU:
            lungs[piece] |= member
    return lungs


def bone_mask(hu: np.ndarray, body: np.ndarray, axis: int, voxel_ml: float) -> np.ndarray:
    dense = _fill_slices(ndimage.binary_closing(hu >= BONE_HU), axis) & body
    labels, count = _components(dense)
    if count == 0:
        return np.asarray(dense)
    sizes = ndimage.sum_labels(dense, labels, np.arange(1, count + 1)) * voxel_ml
    keep = np.flatnonzero(sizes >= BONE_MIN_ML) + 1
    return np.isin(labels, keep)


def ct_masks(volume: Volume) -> CtMasks:
    """Body, lung and bone masks of a CT volume in Hounsfield units."""
    hu = np.asarray(volume.data, dtype=np.float32)
    axis = axial_axis(volume.affine)
    voxel_ml = volume.voxel_ml
    body = body_mask(hu, axis)
    return CtMasks(
        body, lung_mask(hu, body, voxel_ml), bone_mask(hu, body, axis, voxel_ml), voxel_ml
    )
