"""YOLOv8 / YOLO11 decoder: the common Ultralytics ONNX export, (1, 4 + classes, anchors)."""

from __future__ import annotations

import numpy as np

from shigu.core.detections import Detections
from shigu.detect.base import Detector, Preprocessing
from shigu.detect.letterbox import LetterboxMeta


class YOLOv8Detector(Detector):
    """Ultralytics YOLOv8/YOLO11 exports: RGB 0-1 input, centred letterbox padded with 114.

    The output holds box centres and sizes in input pixels followed by per-class sigmoid scores
    (no objectness); both (1, 4 + C, N) and the transposed (1, N, 4 + C) layouts are read.
    Exports with NMS built in (``end2end``, (1, K, 6) = x1, y1, x2, y2, score, class) also work.
    """

    format = "yolov8"

    def preprocessing(self) -> Preprocessing:
        return Preprocessing(
            size=self.input_size_from_model((640, 640)),
            pad_value=114,
            center=True,
            swap_rb=True,
            scale=1 / 255.0,
        )

    def check_outputs(self) -> None:
        out = self.model.outputs
        if len(out) < 1 or len(out[0].shape) != 3:
            raise self._bad_outputs("one output of shape (1, 4 + classes, anchors)")
        _, a, b = out[0].shape
        w, h = self.prep.size
        anchors = sum((w // s) * (h // s) for s in (8, 16, 32))
        if b == anchors or (a is not None and b is not None and a < b and a < 1000):
            self._layout = "channels_first"
        elif a == anchors or (a is not None and b is not None and b < a):
            self._layout = "channels_last"
        else:
            self._layout = "channels_first"
        if (b == 6 and a is not None and a <= 1000 and a != anchors) or (a == 300 and b == 6):
            self._layout = "end2end"

    def decode(self, outputs: list[np.ndarray], meta: LetterboxMeta) -> Detections:
        pred = outputs[0]
        if self._layout == "end2end":
            p = pred[pred[:, 4] >= self.conf]
            return self.finish(
                p[:, :4].astype(np.float32),
                p[:, 4].astype(np.float32),
                p[:, 5].astype(np.int32),
                meta,
            )
        if self._layout == "channels_first":
            pred = pred.T
        cls = pred[:, 4:]
        cls_id = cls.argmax(1).astype(np.int32)
        scores = np.take_along_axis(cls, cls_id[:, None], 1)[:, 0]
        keep = np.flatnonzero(scores >= max(self.conf, 1e-4))
        b = pred[keep, :4].astype(np.float32)
        xyxy = np.concatenate([b[:, :2] - b[:, 2:] / 2, b[:, :2] + b[:, 2:] / 2], axis=1)
        return self.finish(xyxy, scores[keep].astype(np.float32), cls_id[keep], meta)
