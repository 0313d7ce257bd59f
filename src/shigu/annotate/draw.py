"""Small annotators: boxes with labels, movement traces, polygons and lines."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Sequence

import cv2
import numpy as np

from shigu.core.detections import Detections

_PALETTE = np.array(
    [
        (56, 56, 255),
        (151, 157, 255),
        (31, 112, 255),
        (29, 178, 255),
        (49, 210, 207),
        (10, 249, 72),
        (23, 204, 146),
        (134, 219, 61),
        (52, 147, 26),
        (187, 212, 0),
        (168, 153, 44),
        (255, 194, 0),
        (147, 69, 52),
        (255, 115, 100),
        (236, 24, 0),
        (255, 56, 132),
        (133, 0, 82),
        (255, 56, 203),
        (200, 149, 255),
        (199, 55, 255),
    ],
    dtype=np.uint8,
)


def color_for(key: int) -> tuple[int, int, int]:
    """A stable BGR colour for a class or track id."""
    b, g, r = _PALETTE[int(key) % len(_PALETTE)]
    return int(b), int(g), int(r)


class BoxAnnotator:
    """Draws boxes labelled ``#id class score`` (``class score`` when untracked), and
    landmarks."""

    def __init__(
        self,
        labels: Sequence[str],
        thickness: int = 2,
        font_scale: float = 0.5,
        color_by_track: bool = True,
    ) -> None:
        self.labels = tuple(labels)
        self.thickness = thickness
        self.font_scale = font_scale
        self.color_by_track = color_by_track

    def annotate(self, image: np.ndarray, detections: Detections) -> np.ndarray:
        """Draw on ``image`` in place and return it."""
        tids = detections.tracker_id
        for i in range(len(detections)):
            x1, y1, x2, y2 = (round(float(v)) for v in detections.xyxy[i])
            cls = int(detections.class_id[i])
            tid = int(tids[i]) if tids is not None else -1
            color = color_for(tid if (self.color_by_track and tid >= 0) else cls)
            cv2.rectangle(image, (x1, y1), (x2, y2), color, self.thickness, cv2.LINE_AA)
            name = self.labels[cls] if 0 <= cls < len(self.labels) else str(cls)
            score = f"{detections.confidence[i]:.2f}"
            text = f"#{tid} {name} {score}" if tid >= 0 else f"{name} {score}"
            (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, self.font_scale, 1)
            ty = max(y1, th + base + 2)
            cv2.rectangle(image, (x1, ty - th - base - 2), (x1 + tw + 4, ty), color, -1)
            cv2.putText(
                image,
                text,
                (x1 + 2, ty - base - 1),
                cv2.FONT_HERSHEY_SIMPLEX,
                self.font_scale,
                (255, 255, 255),
                1,
                cv2.LINE_AA,
            )
            if detections.keypoints is not None:
                for px, py in detections.keypoints[i]:
                    if not (np.isfinite(px) and np.isfinite(py)):
                        continue  # a landmark the model did not give
                    cv2.circle(image, (int(px), int(py)), 2, (0, 255, 255), -1, cv2.LINE_AA)
        return image


class TraceAnnotator:
    """Draws the recent path of each track's anchor point (default: bottom centre)."""

    def __init__(self, length: int = 30, thickness: int = 2) -> None:
        self.length = length
        self.thickness = thickness
        self._paths: dict[int, deque[tuple[int, int]]] = defaultdict(
            lambda: deque(maxlen=self.length)
        )
        self._seen: dict[int, int] = {}
        self._tick = 0

    def annotate(self, image: np.ndarray, detections: Detections) -> np.ndarray:
        self._tick += 1
        if detections.tracker_id is not None and len(detections):
            anchors = detections.anchors("bottom_center")
            for tid, (x, y) in zip(detections.tracker_id.tolist(), anchors.tolist(), strict=True):
                self._paths[tid].append((int(x), int(y)))
                self._seen[tid] = self._tick
        for tid in [t for t, seen in self._seen.items() if self._tick - seen > self.length]:
            self._paths.pop(tid, None)
            self._seen.pop(tid, None)
        for tid, path in self._paths.items():
            if len(path) > 1:
                pts = np.array(path, np.int32).reshape(-1, 1, 2)
                cv2.polylines(image, [pts], False, color_for(tid), self.thickness, cv2.LINE_AA)
        return image


def draw_polygon(
    image: np.ndarray,
    points: Sequence[Sequence[float]],
    color: tuple[int, int, int] = (0, 200, 255),
    closed: bool = True,
    label: str | None = None,
    alpha: float = 0.15,
) -> np.ndarray:
    """Outline (and lightly fill, for closed shapes) a zone or a counting line."""
    pts = np.asarray(points, np.int32).reshape(-1, 1, 2)
    if closed and alpha > 0:
        overlay = image.copy()
        cv2.fillPoly(overlay, [pts], color)
        cv2.addWeighted(overlay, alpha, image, 1 - alpha, 0, dst=image)
    cv2.polylines(image, [pts], closed, color, 2, cv2.LINE_AA)
    if label:
        x, y = pts[0, 0]
        cv2.putText(
            image,
            label,
            (int(x) + 4, int(y) - 6),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.6,
            color,
            2,
            cv2.LINE_AA,
        )
    return image
