"""Evaluate an anomaly model on an MVTec-AD-layout folder; draw heatmap overlays."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from shigu.core.errors import InputError
from shigu.solutions.industrial import metrics
from shigu.solutions.industrial.anomaly import AnomalyModel, Prediction
from shigu.solutions.industrial.dataset import mvtec_test_set
from shigu.sources.images import read_image


def overlay(image: np.ndarray, prediction: Prediction, threshold: float) -> np.ndarray:
    """The image with the anomaly map as a JET heatmap, the defect outlines and the verdict."""
    amap = prediction.anomaly_map
    # Scale so the threshold sits in the middle of the colour range: red means "over".
    norm = (
        np.clip(amap / (2.0 * threshold), 0.0, 1.0)
        if threshold > 0
        else amap / max(amap.max(), 1e-6)
    )
    heat = cv2.applyColorMap((norm * 255).astype(np.uint8), cv2.COLORMAP_JET)
    out = cv2.addWeighted(image, 0.55, heat, 0.45, 0)
    contours, _ = cv2.findContours(prediction.mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(out, contours, -1, (255, 255, 255), 2)
    label = f"{'NG' if prediction.anomalous else 'OK'} {prediction.score:.2f}"
    colour = (0, 0, 255) if prediction.anomalous else (0, 200, 0)
    cv2.putText(out, label, (8, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.8, colour, 2, cv2.LINE_AA)
    return out


def evaluate(
    model: AnomalyModel,
    root: str | Path,
    roc_png: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
    batch: int = 8,
) -> dict[str, Any]:
    """Image/pixel AUROC, PRO and F1 at the calibrated threshold, per-image results."""
    items = mvtec_test_set(root)
    labels, scores, masks, maps, per_image = [], [], [], [], []
    for lo in range(0, len(items), batch):
        chunk = items[lo : lo + batch]
        images = []
        for item in chunk:
            image = read_image(item.path)
            if image is None:
                raise InputError(f"cannot read test image {item.path}", "replace or remove it")
            images.append(image)
        for item, image, pred in zip(chunk, images, model.predict(images), strict=True):
            if item.mask is not None:
                mask = cv2.imread(str(item.mask), cv2.IMREAD_GRAYSCALE)
                if mask is None:
                    raise InputError(f"cannot read mask {item.mask}")
                if mask.shape != image.shape[:2]:
                    mask = cv2.resize(
                        mask, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_NEAREST
                    )
            else:
                mask = np.zeros(image.shape[:2], np.uint8)
                if item.is_anomalous:
                    mask = None  # a defect without a mask counts for image metrics only
            labels.append(item.is_anomalous)
            scores.append(pred.score)
            if mask is not None:
                masks.append(mask)
                maps.append(pred.anomaly_map)
            per_image.append({"path": str(item.path), "defect": item.defect, **pred.to_json()})
        if progress:
            progress(len(chunk))
    y = np.asarray(labels)
    s = np.asarray(scores)
    has_masks = any((m > 0).any() for m in masks)
    result: dict[str, Any] = {
        "image_auroc": metrics.image_auroc(y, s),
        "pixel_auroc": metrics.pixel_auroc(masks, maps) if has_masks else None,
        "pro": metrics.pro(masks, maps) if has_masks else None,
        **metrics.f1_at(y, s, model.threshold),
        "threshold": model.threshold,
        "method": model.method,
        "images": len(items),
        "defective": int(y.sum()),
        "per_image": per_image,
    }
    if roc_png:
        curves = {"image": (y, s)}
        if has_masks:
            # Subsample pixels for the plot only; the AUROC above uses every pixel.
            flat_y = np.concatenate([m.ravel() > 0 for m in masks])
            flat_s = np.concatenate([a.ravel() for a in maps])
            step = max(1, len(flat_y) // 200_000)
            curves["pixel"] = (flat_y[::step], flat_s[::step])
        metrics.roc_plot(str(roc_png), curves)
    return result
