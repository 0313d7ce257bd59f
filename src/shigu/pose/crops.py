"""Square, person-centred crops for top-down pose models, and the way back to the image.

A crop may be rotated, as MediaPipe's pose tracking does: its "up" points from the hips to
the top of the head, so a leaning or lying person reaches the model upright.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class SquareCrop:
    """A square of side ``side`` image pixels centred on ``(cx, cy)``, turned by ``angle``
    radians (clockwise in the image) from upright."""

    cx: float
    cy: float
    side: float
    angle: float = 0.0

    @classmethod
    def around(cls, xyxy: npt.ArrayLike, scale: float) -> SquareCrop:
        """The upright square centred on a box, its side ``scale`` times the longer side."""
        x1, y1, x2, y2 = (float(v) for v in np.asarray(xyxy, np.float64).reshape(4))
        return cls((x1 + x2) / 2, (y1 + y2) / 2, max(x2 - x1, y2 - y1, 1.0) * scale)

    @classmethod
    def from_axis(cls, center: npt.ArrayLike, top: npt.ArrayLike, scale: float) -> SquareCrop:
        """MediaPipe's ROI from two alignment points: the body centre and a point at the top
        of the head; side = ``scale`` x twice their distance, turned so ``top`` is up."""
        c = np.asarray(center, np.float64)
        t = np.asarray(top, np.float64)
        d = t - c
        side = max(2.0 * float(np.hypot(*d)) * scale, 1.0)
        return cls(float(c[0]), float(c[1]), side, float(np.arctan2(d[0], -d[1])))

    def _matrix(self, size: int) -> np.ndarray:
        """Affine map image -> crop pixels (2 x 3)."""
        k = size / self.side
        cos, sin = np.cos(self.angle), np.sin(self.angle)
        rot = np.array([[cos, sin], [-sin, cos]]) * k
        shift = np.array([size / 2, size / 2]) - rot @ np.array([self.cx, self.cy])
        return np.hstack([rot, shift[:, None]])

    def cut(self, image: np.ndarray, size: int, replicate: bool = False) -> np.ndarray:
        """The crop resized to ``size`` x ``size``, same channels; outside the image black, or
        the nearest edge pixel with ``replicate``."""
        border = cv2.BORDER_REPLICATE if replicate else cv2.BORDER_CONSTANT
        return cv2.warpAffine(
            image,
            self._matrix(size),
            (size, size),
            flags=cv2.INTER_LINEAR,
            borderMode=border,
            borderValue=(0, 0, 0),
        )

    def to_image(self, points: np.ndarray, size: float) -> np.ndarray:
        """Map (..., 2) points from crop pixels (a ``size`` square) to image pixels."""
        inv = cv2.invertAffineTransform(self._matrix(int(size)))
        pts = np.asarray(points, np.float64)
        out = pts @ inv[:, :2].T + inv[:, 2]
        return out.astype(np.float32)
