"""YuNet face decoder: faces with 5 landmarks (eyes, nose tip, mouth corners)."""

from __future__ import annotations

import numpy as np

from shigu.core.detections import Detections
from shigu.detect.base import Detector, Preprocessing
from shigu.detect.letterbox import LetterboxMeta

STRIDES = (8, 16, 32)


class YuNetDetector(Detector):
    """YuNet (libfacedetection / OpenCV zoo, 2023mar) ONNX: BGR 0-255 input.

    Outputs per stride ``cls_*``, ``obj_*``, ``bbox_*`` and ``kps_*``; the score is
    ``sqrt(cls * obj)`` and boxes and landmarks are offsets in cell units, as OpenCV's
    ``FaceDetectorYN`` decodes them. Landmarks land in ``Detections.keypoints`` (N, 5, 2).
    """

    format = "yunet"

    def preprocessing(self) -> Preprocessing:
        return Preprocessing(size=self.input_size_from_model((640, 640)), pad_value=0, center=False)

    def check_outputs(self) -> None:
        names = [o.name for o in self.model.outputs]
        self._order = [f"{kind}_{s}" for kind in ("cls", "obj", "bbox", "kps") for s in STRIDES]
        if not all(n in names for n in self._order):
            raise self._bad_outputs("cls_8/16/32, obj_*, bbox_*, kps_* outputs")
        w, h = self.prep.size
        cells, strides = [], []
        for s in STRIDES:
            xv, yv = np.meshgrid(np.arange(w // s), np.arange(h // s))
            cells.append(np.stack((xv, yv), 2).reshape(-1, 2))
            strides.append(np.full(((w // s) * (h // s), 1), s))
        self._cells = np.concatenate(cells).astype(np.float32)
        self._strides = np.concatenate(strides).astype(np.float32)

    def infer(self, batch: np.ndarray, metas: list[LetterboxMeta]) -> list[Detections]:  # type: ignore[override]
        out = self.model.run(batch, self._order)
        cls = np.concatenate(out[0:3], axis=1)
        obj = np.concatenate(out[3:6], axis=1)
        bbox = np.concatenate(out[6:9], axis=1)
        kps = np.concatenate(out[9:12], axis=1)
        return [self.decode([cls[i], obj[i], bbox[i], kps[i]], m) for i, m in enumerate(metas)]

    def decode(self, outputs: list[np.ndarray], meta: LetterboxMeta) -> Detections:
        cls, obj, bbox, kps = outputs
        scores = np.sqrt(np.clip(cls[:, 0], 0, 1) * np.clip(obj[:, 0], 0, 1))
        keep = np.flatnonzero(scores >= max(self.conf, 1e-4))
        cells, st = self._cells[keep], self._strides[keep]
        b = bbox[keep]
        centre = (cells + b[:, :2]) * st
        size = np.exp(np.minimum(b[:, 2:4], 10.0)) * st
        xyxy = np.concatenate([centre - size / 2, centre + size / 2], axis=1).astype(np.float32)
        points = (kps[keep].reshape(-1, 5, 2) + cells[:, None, :]) * st[:, None, :]
        return self.finish(
            xyxy,
            scores[keep].astype(np.float32),
            np.zeros(len(keep), np.int32),
            meta,
            points.astype(np.float32),
        )
