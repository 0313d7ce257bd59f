"""YOLOX decoder: anchor-free grid outputs (N, 5 + classes) with objectness."""

from __future__ import annotations

import numpy as np

from shigu.core.detections import Detections
from shigu.detect.base import Detector, Preprocessing
from shigu.detect.letterbox import LetterboxMeta

STRIDES = (8, 16, 32)


def make_grid(
    width: int, height: int, strides: tuple[int, ...] = STRIDES
) -> tuple[np.ndarray, np.ndarray]:
    """Grid cell offsets (N, 2) and strides (N, 1) in the order YOLOX heads emit them."""
    grids, expanded = [], []
    for s in strides:
        hs, ws = height // s, width // s
        xv, yv = np.meshgrid(np.arange(ws), np.arange(hs))
        grids.append(np.stack((xv, yv), 2).reshape(-1, 2))
        expanded.append(np.full((hs * ws, 1), s))
    return (np.concatenate(grids).astype(np.float32), np.concatenate(expanded).astype(np.float32))


class YOLOXDetector(Detector):
    """YOLOX (Megvii) ONNX exports: BGR 0-255 input, letterbox padded right/bottom with 114.

    Handles both raw exports (grid/stride decode needed, as the official release files) and
    exports with the decode built in.
    """

    format = "yolox"

    def preprocessing(self) -> Preprocessing:
        return Preprocessing(
            size=self.input_size_from_model((416, 416)), pad_value=114, center=False
        )

    def check_outputs(self) -> None:
        out = self.model.outputs
        w, h = self.prep.size
        self._grid, self._strides = make_grid(w, h)
        n = len(self._grid)
        if (
            len(out) != 1
            or len(out[0].shape) != 3
            or out[0].shape[1] not in (n, None)
            or (out[0].shape[2] is not None and out[0].shape[2] < 6)
        ):
            raise self._bad_outputs(f"one output of shape (1, {n}, 5 + classes)")
        self._decoded: bool | None = None  # decided on the first run

    def decode(self, outputs: list[np.ndarray], meta: LetterboxMeta) -> Detections:
        pred = outputs[0]
        threshold = max(self.conf, 1e-4)
        # score = objectness x class probability <= objectness: filter on objectness first so
        # the class argmax runs on a handful of anchors instead of all of them
        cand = np.flatnonzero(pred[:, 4] >= threshold)
        sub = pred[cand]
        cls = sub[:, 5:]
        if cls.shape[1] == 1:
            cls_id = np.zeros(len(sub), np.int32)
            cls_score = cls[:, 0]
        else:
            cls_id = cls.argmax(1).astype(np.int32)
            cls_score = np.take_along_axis(cls, cls_id[:, None], 1)[:, 0]
        scores = sub[:, 4] * cls_score
        ok = scores >= threshold
        keep = cand[ok]
        scores, cls_id = scores[ok], cls_id[ok]
        if self._decoded is None:
            # exports with decode built in emit pixel centres; raw ones emit cell offsets (~0..1)
            self._decoded = bool(np.abs(pred[:, :2]).mean() > 4.0)
        boxes = pred[keep, :4].astype(np.float32)
        if not self._decoded:
            st = self._strides[keep]
            boxes[:, :2] = (boxes[:, :2] + self._grid[keep]) * st
            boxes[:, 2:4] = np.exp(np.minimum(boxes[:, 2:4], 10.0)) * st
        xyxy = np.empty_like(boxes)
        xyxy[:, :2] = boxes[:, :2] - boxes[:, 2:4] / 2
        xyxy[:, 2:] = boxes[:, :2] + boxes[:, 2:4] / 2
        return self.finish(xyxy, scores.astype(np.float32), cls_id, meta)
