"""NanoDet decoder: GFL heads, per-stride class scores and distance distributions."""

from __future__ import annotations

import numpy as np

from shigu.core.detections import Detections
from shigu.detect.base import Detector, Preprocessing
from shigu.detect.letterbox import LetterboxMeta

STRIDES = (8, 16, 32)


class NanoDetDetector(Detector):
    """NanoDet / NanoDet-m ONNX exports.

    Two output layouts are read: six outputs ``cls_pred_stride_{8,16,32}`` (sigmoid scores)
    and ``dis_pred_stride_{8,16,32}`` (4 x (reg_max + 1) bin logits), or one combined
    (1, N, classes + 4 * (reg_max + 1)) output as NanoDet-Plus exports. Boxes are distances
    from cell centres, each the expectation of a softmax over the bins (GFL).
    """

    format = "nanodet"
    mean = (103.53, 116.28, 123.675)
    std = (57.375, 57.12, 58.395)

    def preprocessing(self) -> Preprocessing:
        return Preprocessing(
            size=self.input_size_from_model((320, 320)),
            pad_value=0,
            center=True,
            mean=self.mean,
            std=self.std,
        )

    def check_outputs(self) -> None:
        names = [o.name for o in self.model.outputs]
        w, h = self.prep.size
        self._centers = []
        self._stride_of = []
        for s in STRIDES:
            hs, ws = -(-h // s), -(-w // s)
            xv, yv = np.meshgrid(np.arange(ws), np.arange(hs))
            centers = (np.stack((xv, yv), 2).reshape(-1, 2).astype(np.float32) + 0.5) * s
            self._centers.append(centers)
            self._stride_of.append(np.full(len(centers), s, np.float32))
        self._all_centers = np.concatenate(self._centers)
        self._all_strides = np.concatenate(self._stride_of)
        n = len(self._all_centers)
        split = [f"cls_pred_stride_{s}" for s in STRIDES] + [
            f"dis_pred_stride_{s}" for s in STRIDES
        ]
        if all(name in names for name in split):
            self._layout = "split"
            self._order = split
            dis = self.model.outputs[names.index("dis_pred_stride_8")].shape
            self.reg_max = (int(dis[-1]) // 4 - 1) if dis[-1] else 7
            return
        out = self.model.outputs
        if len(out) == 1 and len(out[0].shape) == 3 and out[0].shape[1] in (n, None):
            self._layout = "combined"
            self.reg_max = 7
            return
        raise self._bad_outputs(
            f"cls_pred_stride_*/dis_pred_stride_* outputs or one (1, {n}, classes + 32) output"
        )

    def infer(self, batch: np.ndarray, metas: list[LetterboxMeta]) -> list[Detections]:  # type: ignore[override]
        if self._layout == "split":
            outputs = self.model.run(batch, self._order)
            cls = np.concatenate(outputs[:3], axis=1)
            dis = np.concatenate(outputs[3:], axis=1)
        else:
            (combined,) = self.model.run(batch)
            nc = combined.shape[2] - 4 * (self.reg_max + 1)
            cls, dis = combined[:, :, :nc], combined[:, :, nc:]
        return [self.decode([cls[i], dis[i]], meta) for i, meta in enumerate(metas)]

    def decode(self, outputs: list[np.ndarray], meta: LetterboxMeta) -> Detections:
        cls, dis = outputs
        cls_id = cls.argmax(1).astype(np.int32)
        scores = np.take_along_axis(cls, cls_id[:, None], 1)[:, 0]
        if self._layout == "combined" and (scores.max(initial=0) > 1 or scores.min(initial=0) < 0):
            scores = 1 / (1 + np.exp(-scores))
        keep = np.flatnonzero(scores >= max(self.conf, 1e-4))
        bins = self.reg_max + 1
        logits = dis[keep].reshape(-1, 4, bins).astype(np.float32)
        logits -= logits.max(2, keepdims=True)
        prob = np.exp(logits)
        prob /= prob.sum(2, keepdims=True)
        dist = prob @ np.arange(bins, dtype=np.float32)  # (K, 4) in units of stride
        dist *= self._all_strides[keep, None]
        c = self._all_centers[keep]
        xyxy = np.concatenate([c - dist[:, :2], c + dist[:, 2:]], axis=1)
        return self.finish(xyxy, scores[keep].astype(np.float32), cls_id[keep], meta)
