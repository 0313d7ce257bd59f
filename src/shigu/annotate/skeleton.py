"""Skeletons over people: COCO-17 limbs between keypoints that are confidently seen."""

from __future__ import annotations

import cv2
import numpy as np

from shigu.pose.skeleton import COCO_SKELETON

_LEFT, _RIGHT, _MIDDLE = (255, 160, 0), (0, 140, 255), (80, 220, 80)  # BGR


def _side(a: int, b: int) -> tuple[int, int, int]:
    odd = a % 2 == 1 and b % 2 == 1  # COCO: odd indices are left, even (but 0) right
    even = a % 2 == 0 and b % 2 == 0 and a and b
    return _LEFT if odd else _RIGHT if even else _MIDDLE


def draw_skeletons(image: np.ndarray, poses: np.ndarray, min_score: float = 0.3) -> np.ndarray:
    """Draw (N, 17, 3) x, y, score poses on a BGR image in place; rows of NaN are skipped."""
    thick = max(1, round(min(image.shape[:2]) / 360))
    for pose in np.asarray(poses, np.float32):
        if not np.isfinite(pose).all():
            continue
        seen = pose[:, 2] >= min_score
        pts = np.round(pose[:, :2]).astype(np.int32)
        for a, b in COCO_SKELETON:
            if seen[a] and seen[b]:
                cv2.line(image, tuple(pts[a]), tuple(pts[b]), _side(a, b), thick, cv2.LINE_AA)
        for k in np.flatnonzero(seen):
            cv2.circle(image, tuple(pts[k]), thick + 1, (255, 255, 255), -1, cv2.LINE_AA)
    return image
