"""Segmentation metrics: MONAI's definitions, to 1e-4, on the shared 41-label segmentation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shigu.solutions.medical import read_nifti
from shigu.solutions.medical.metrics import score_labels, score_masks, summary
from tests.solutions.medical.perturb import perturbed


@pytest.mark.integration
def test_parity_with_monai_on_every_label(medical_dir: Path) -> None:
    torch = pytest.importorskip("torch")
    from monai.metrics import (
        compute_average_surface_distance,
        compute_dice,
        compute_hausdorff_distance,
        compute_iou,
    )

    gt_volume = read_nifti(medical_dir / "totalsegmentator" / "example_seg.nii.gz")
    gt = np.asarray(gt_volume.data).astype(np.int16)
    labels = sorted(set(np.unique(gt).tolist()) - {0})
    assert len(labels) == 41
    pred = perturbed(gt, labels)
    ours = score_labels(pred, gt, gt_volume.spacing, labels)

    def onehot(a: np.ndarray) -> object:
        return torch.from_numpy(np.stack([a == v for v in labels])[None].astype(np.float32))

    p, g, spacing = onehot(pred), onehot(gt), list(gt_volume.spacing)
    dice = compute_dice(p, g, include_background=True, ignore_empty=False)[0].numpy()
    iou = compute_iou(p, g, include_background=True, ignore_empty=False)[0].numpy()
    hd95 = compute_hausdorff_distance(
        p, g, include_background=True, percentile=95, spacing=spacing
    )[0].numpy()
    asd = compute_average_surface_distance(
        p, g, include_background=True, symmetric=True, spacing=spacing
    )[0].numpy()
    for score, d, i, h, a in zip(ours, dice, iou, hd95, asd, strict=True):
        assert score.dice == pytest.approx(float(d), abs=1e-4), score.label
        assert score.iou == pytest.approx(float(i), abs=1e-4), score.label
        assert score.hd95_mm == pytest.approx(float(h), abs=1e-4), score.label
        assert score.asd_mm == pytest.approx(float(a), abs=1e-4), score.label
    assert any(s.dice < 0.9 for s in ours)  # the perturbation is not a no-op
    assert ours[0].gt_ml == pytest.approx((gt == labels[0]).sum() * 27 / 1000)  # 3 mm voxels


def test_spacing_is_honoured() -> None:
    gt = np.zeros((20, 20, 20), dtype=bool)
    gt[5:15, 5:15, 5:15] = True
    pred = np.roll(gt, 2, axis=2)  # two voxels along k
    iso = score_masks(pred, gt, (1.0, 1.0, 1.0))
    thick = score_masks(pred, gt, (1.0, 1.0, 3.0))
    assert iso.hd95_mm == pytest.approx(2.0) and thick.hd95_mm == pytest.approx(6.0)
    assert iso.dice == thick.dice == pytest.approx(0.8)
    assert thick.gt_ml == pytest.approx(1000 * 3 / 1000)


def test_empty_masks_have_defined_scores() -> None:
    empty = np.zeros((8, 8, 8), dtype=bool)
    some = empty.copy()
    some[2:5, 2:5, 2:5] = True
    both = score_masks(empty, empty, (1, 1, 1))
    assert (both.dice, both.iou, both.hd95_mm, both.asd_mm) == (1.0, 1.0, 0.0, 0.0)
    missed = score_masks(empty, some, (1, 1, 1))
    assert (missed.dice, missed.hd95_mm) == (0.0, None)
    assert missed.pred_empty and not missed.gt_empty
    invented = score_masks(some, empty, (1, 1, 1))
    assert (invented.dice, invented.asd_mm, invented.gt_empty) == (0.0, None, True)
    means = summary([both, missed, invented])
    assert means["mean_dice"] == pytest.approx(1 / 3) and means["mean_hd95_mm"] == 0.0
