"""Anomaly-detection metrics on MVTec-AD-style test sets.

- ``image_auroc``: ROC AUC of image scores, good vs defective (scikit-learn), as anomalib.
- ``pixel_auroc``: ROC AUC over every pixel of every test image against the masks, as anomalib.
- ``pro``: area under the per-region-overlap curve up to 30 % false-positive rate, divided by
  0.3: the MVTec AD definition (Bergmann et al., 2021), which anomalib's AUPRO also follows.
  Each connected ground-truth region weighs the same whatever its size.
- ``f1``: image-level F1 at the model's own calibrated threshold (not an oracle threshold,
  unlike anomalib's default adaptive F1), so it says how the deployed model would do.
"""

from __future__ import annotations

import cv2
import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve


def image_auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    return float(roc_auc_score(labels.astype(int), scores))


def pixel_auroc(masks: list[np.ndarray], maps: list[np.ndarray]) -> float:
    y = np.concatenate([m.ravel() > 0 for m in masks])
    s = np.concatenate([a.ravel() for a in maps])
    return float(roc_auc_score(y.astype(np.uint8), s))


def pro(masks: list[np.ndarray], maps: list[np.ndarray], fpr_limit: float = 0.3) -> float:
    """Normalised area under the PRO curve for FPR in [0, fpr_limit]."""
    scores_parts, fp_parts, pro_parts = [], [], []
    total_ok = sum(int((m == 0).sum()) for m in masks)
    regions = 0
    labelled = []
    for mask in masks:
        count, labels = cv2.connectedComponents((mask > 0).astype(np.uint8), connectivity=8)
        labelled.append((count - 1, labels))
        regions += count - 1
    if regions == 0 or total_ok == 0:
        return float("nan")
    for (count, labels), amap in zip(labelled, maps, strict=True):
        flat = labels.ravel()
        scores_parts.append(amap.ravel())
        fp = np.where(flat == 0, 1.0 / total_ok, 0.0)
        areas = np.bincount(flat, minlength=count + 1).astype(np.float64)
        weight = np.zeros(count + 1)
        weight[1:] = 1.0 / (regions * areas[1:])
        pro_inc = weight[flat]
        fp_parts.append(fp)
        pro_parts.append(pro_inc)
    scores = np.concatenate(scores_parts)
    order = np.argsort(-scores, kind="stable")
    scores = scores[order]
    fpr = np.cumsum(np.concatenate(fp_parts)[order])
    pros = np.cumsum(np.concatenate(pro_parts)[order])
    # Keep the last point of each run of equal scores: one curve point per threshold.
    keep = np.r_[scores[1:] != scores[:-1], True]
    fpr = np.r_[0.0, fpr[keep]]
    pros = np.r_[0.0, pros[keep]]
    if fpr[-1] < fpr_limit:
        fpr = np.r_[fpr, fpr_limit]
        pros = np.r_[pros, pros[-1]]
    cut = np.searchsorted(fpr, fpr_limit, side="right")
    x = np.r_[fpr[:cut], fpr_limit]
    y = np.r_[pros[:cut], np.interp(fpr_limit, fpr, pros)]
    return float(np.trapezoid(y, x) / fpr_limit)


def f1_at(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float]:
    predicted = scores >= threshold
    truth = labels.astype(bool)
    tp = int((predicted & truth).sum())
    fp = int((predicted & ~truth).sum())
    fn = int((~predicted & truth).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"f1": f1, "precision": precision, "recall": recall}


def roc_plot(path: str, curves: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """ROC curves (name → labels, scores) in one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    for name, (labels, scores) in curves.items():
        fpr, tpr, _ = roc_curve(labels.astype(int), scores)
        auc = roc_auc_score(labels.astype(int), scores)
        ax.plot(fpr, tpr, label=f"{name} (AUROC {auc:.3f})")
    ax.plot([0, 1], [0, 1], "k--", lw=0.8)
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.set_title("Anomaly detection ROC")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
