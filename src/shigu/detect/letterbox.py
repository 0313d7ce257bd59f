"""Resize-and-pad preprocessing that keeps the aspect ratio, and its inverse for boxes."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class LetterboxMeta:
    """How an image was placed in the network input: ``input = image * scale + pad``."""

    scale_x: float
    scale_y: float
    pad_x: float
    pad_y: float
    width: int  # original image size
    height: int

    def boxes_to_image(self, xyxy: np.ndarray) -> np.ndarray:
        """Map (N, 4) boxes from network-input pixels back to the original image, clipped."""
        out = np.empty_like(xyxy, dtype=np.float32)
        out[:, 0::2] = (xyxy[:, 0::2] - self.pad_x) / self.scale_x
        out[:, 1::2] = (xyxy[:, 1::2] - self.pad_y) / self.scale_y
        np.clip(out[:, 0::2], 0, self.width, out=out[:, 0::2])
        np.clip(out[:, 1::2], 0, self.height, out=out[:, 1::2])
        return out

    def points_to_image(self, points: np.ndarray) -> np.ndarray:
        """Map (..., 2) points from network-input pixels back to the original image."""
        out = np.empty_like(points, dtype=np.float32)
        out[..., 0] = (points[..., 0] - self.pad_x) / self.scale_x
        out[..., 1] = (points[..., 1] - self.pad_y) / self.scale_y
        return out


def letterbox(
    image: np.ndarray,
    size: tuple[int, int],
    pad_value: int = 114,
    center: bool = True,
    out: np.ndarray | None = None,
    keep_ratio: bool = True,
) -> tuple[np.ndarray, LetterboxMeta]:
    """Fit ``image`` (H, W, 3) into ``size`` = (width, height) without distortion.

    Args:
        center: pad on both sides (YOLOv8, NanoDet) or only right/bottom (YOLOX, YuNet).
        out: optional (height, width, 3) uint8 buffer to fill, saving an allocation per frame.
        keep_ratio: False stretches to ``size`` (for models trained that way).

    Returns:
        The (height, width, 3) uint8 input image and the mapping back to the original.
    """
    h, w = image.shape[:2]
    tw, th = size
    if out is None or out.shape != (th, tw, 3):
        out = np.empty((th, tw, 3), dtype=np.uint8)
    if not keep_ratio:
        cv2.resize(image, (tw, th), dst=out, interpolation=cv2.INTER_LINEAR)
        return out, LetterboxMeta(tw / w, th / h, 0.0, 0.0, w, h)
    scale = min(tw / w, th / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    nw, nh = min(nw, tw), min(nh, th)
    px = (tw - nw) // 2 if center else 0
    py = (th - nh) // 2 if center else 0
    if (nw, nh) == (w, h):
        region = image
    else:
        region = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    out[py : py + nh, px : px + nw] = region
    if py:
        out[:py] = pad_value
    if py + nh < th:
        out[py + nh :] = pad_value
    if px:
        out[py : py + nh, :px] = pad_value
    if px + nw < tw:
        out[py : py + nh, px + nw :] = pad_value
    return out, LetterboxMeta(scale, scale, float(px), float(py), w, h)


def to_tensor(
    image: np.ndarray,
    out: np.ndarray,
    mean: np.ndarray | None = None,
    std: np.ndarray | None = None,
    scale: float = 1.0,
    swap_rb: bool = False,
) -> None:
    """Write (H, W, 3) uint8 into ``out`` (3, H, W) float32: optional RB swap, scale, mean/std.

    Done channel by channel straight into the output so no temporary full-size arrays are made.
    """
    for c in range(3):
        src = image[:, :, 2 - c if swap_rb else c]
        dst = out[c]
        np.multiply(src, np.float32(scale), out=dst, casting="unsafe")
        if mean is not None:
            dst -= mean[c]
        if std is not None:
            dst /= std[c]
