"""Segmentation metrics per label, in physical units: Dice, IoU, HD95, average surface distance
and volumes, with MONAI's definitions so numbers compare with published ones.

- Surfaces are the voxels of a mask that its binary erosion (6-connected) removes, as MONAI's
  ``get_mask_edges``; distances are exact Euclidean distances between surface voxel centres
  in mm (the voxel spacing honoured), from a distance transform over the two masks' bounding
  box (exact: every nearest surface voxel lies inside it).
- HD95 is the larger of the two directed 95th percentiles (linear interpolation), as MONAI's
  ``compute_hausdorff_distance(percentile=95)``; ASD is the mean over both directions' distances
  together, as ``compute_average_surface_distance(symmetric=True)``.
- Empty masks, stated rather than left to chance: both empty -> Dice 1, IoU 1, HD95 0, ASD 0
  (nothing to find and nothing found); exactly one empty -> Dice 0, IoU 0 and the distances
  undefined (None in JSON; MONAI returns inf or nan there). Each row says which mask was empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage


@dataclass
class LabelScore:
    """The scores of one label."""

    label: int
    dice: float
    iou: float
    hd95_mm: float | None
    asd_mm: float | None
    pred_ml: float
    gt_ml: float
    volume_diff_ml: float  # prediction minus ground truth
    pred_empty: bool
    gt_empty: bool

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def surface(mask: np.ndarray) -> np.ndarray:
    """The voxels of ``mask`` on its border (removed by a 6-connected erosion)."""
    return np.asarray(mask & ~ndimage.binary_erosion(mask))


def _bbox(mask: np.ndarray) -> tuple[slice, ...]:
    found = ndimage.find_objects(mask.astype(np.uint8))
    assert found and found[0] is not None
    return tuple(found[0])


def surface_distances(
    pred: np.ndarray, gt: np.ndarray, spacing: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Distances (mm) from each surface voxel of ``pred`` to ``gt``'s surface, and back."""
    box = _bbox(pred | gt)
    p, g = surface(pred[box]), surface(gt[box])
    to_gt = ndimage.distance_transform_edt(~g, sampling=spacing)
    to_pred = ndimage.distance_transform_edt(~p, sampling=spacing)
    return np.asarray(to_gt[p]), np.asarray(to_pred[g])


def score_masks(
    pred: np.ndarray, gt: np.ndarray, spacing: Sequence[float], label: int = 1
) -> LabelScore:
    """The scores of one binary prediction against its ground truth."""
    pred, gt = np.asarray(pred, dtype=bool), np.asarray(gt, dtype=bool)
    voxel_ml = float(np.prod(spacing)) / 1000.0
    n_pred, n_gt = int(pred.sum()), int(gt.sum())
    pred_ml, gt_ml = n_pred * voxel_ml, n_gt * voxel_ml
    base = {
        "label": label,
        "pred_ml": pred_ml,
        "gt_ml": gt_ml,
        "volume_diff_ml": pred_ml - gt_ml,
        "pred_empty": n_pred == 0,
        "gt_empty": n_gt == 0,
    }
    if n_pred == 0 and n_gt == 0:
        return LabelScore(dice=1.0, iou=1.0, hd95_mm=0.0, asd_mm=0.0, **base)  # type: ignore[arg-type]
    if n_pred == 0 or n_gt == 0:
        return LabelScore(dice=0.0, iou=0.0, hd95_mm=None, asd_mm=None, **base)  # type: ignore[arg-type]
    inter = int(np.count_nonzero(pred & gt))
    d_pg, d_gp = surface_distances(pred, gt, spacing)
    hd95 = max(float(np.percentile(d_pg, 95)), float(np.percentile(d_gp, 95)))
    asd = float(np.concatenate([d_pg, d_gp]).mean())
    return LabelScore(
        dice=2.0 * inter / (n_pred + n_gt),
        iou=inter / (n_pred + n_gt - inter),
        hd95_mm=hd95,
        asd_mm=asd,
        **base,  # type: ignore[arg-type]
    )


def score_labels(
    pred: np.ndarray,
    gt: np.ndarray,
    spacing: Sequence[float],
    labels: Iterable[int] | None = None,
) -> list[LabelScore]:
    """Scores per label of two label maps on one grid (default: every label in either, but 0)."""
    if pred.shape != gt.shape:
        raise ValueError(f"prediction {pred.shape} and ground truth {gt.shape} differ in shape")
    if labels is None:
        labels = sorted((set(np.unique(pred).tolist()) | set(np.unique(gt).tolist())) - {0})
    return [score_masks(pred == v, gt == v, spacing, int(v)) for v in labels]


def summary(scores: Sequence[LabelScore]) -> dict[str, float | None]:
    """Means over labels (distances over the labels where they are defined)."""
    out: dict[str, float | None] = {}
    for key in ("dice", "iou", "hd95_mm", "asd_mm"):
        values = [getattr(s, key) for s in scores if getattr(s, key) is not None]
        out[f"mean_{key}"] = float(np.mean(values)) if values else None
    return out
