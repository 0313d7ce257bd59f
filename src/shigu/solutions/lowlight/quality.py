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
    psnr = float(peak_signal_noise_ratio(gt_rgb, pred_rgb, data_range=255))  # type: ignore[no-untyped-call]
    ssim = float(structural_similarity(gt_rgb, pred_rgb, channel_axis=2, data_range=255))  # type: ignore[no-untyped-call]
    return psnr, ssim


def read_rgb(path: Path) -> np.ndarray:
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise InputError(f"cannot read image {path}")
    return np.ascontiguousarray(image[..., ::-1])


def evaluate_folders(pred: Path, gt: Path) -> dict[str, Any]:
    """Per image (matched by file stem) and mean PSNR/SSIM; unmatched files are listed."""
    from shigu.sources.images import IMAGE_EXTENSIONS, natural_key

    def images(folder: Path) -> dict[str, Path]:
        if not folder.is_dir():
            raise InputError(f"not a folder: {folder}")
        return {p.stem: p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS}

    preds, gts = images(pred), images(gt)
    common = sorted(set(preds) & set(gts), key=natural_key)
    if not common:
        raise InputError(f"no image in {pred} has a namesake in {gt}",
                         "prediction and ground truth are matched by file name")  # fmt: skip
    rows = []
    for stem in common:
        p, s = psnr_ssim(read_rgb(preds[stem]), read_rgb(gts[stem]))
        rows.append({"image": stem, "psnr": round(p, 3), "ssim": round(s, 4)})
    return {
        "images": rows,
        "mean": {"psnr": round(float(np.mean([r["psnr"] for r in rows])), 3),
                 "ssim": round(float(np.mean([r["ssim"] for r in rows])), 4)},
        "missing_gt": sorted(set(preds) - set(gts)),
        "missing_pred": sorted(set(gts) - set(preds)),
        "conventions": "RGB uint8, data range 255, no GT-mean correction, skimage SSIM 7x7",
    }  # fmt: skip
