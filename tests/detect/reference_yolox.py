"""A plain YOLOX ONNX decode, the way YOLOX's own ONNXRuntime demo does it (the reference).

Deliberately simple: full-array grid decode, class-agnostic NMS on every box above the score
threshold, OpenCV's NMS. Our vectorised detector must reach the same recall and AP.
"""

from __future__ import annotations

import cv2
import numpy as np
import onnxruntime as ort


def preproc(img: np.ndarray, size: tuple[int, int] = (416, 416)) -> tuple[np.ndarray, float]:
    padded = np.ones((size[0], size[1], 3), dtype=np.uint8) * 114
    r = min(size[0] / img.shape[0], size[1] / img.shape[1])
    resized = cv2.resize(
        img, (int(img.shape[1] * r), int(img.shape[0] * r)), interpolation=cv2.INTER_LINEAR
    ).astype(np.uint8)
    padded[: int(img.shape[0] * r), : int(img.shape[1] * r)] = resized
    return np.ascontiguousarray(padded.transpose(2, 0, 1), dtype=np.float32), r


def postprocess(outputs: np.ndarray, size: tuple[int, int] = (416, 416)) -> np.ndarray:
    grids, strides = [], []
    for stride in (8, 16, 32):
        hs, ws = size[0] // stride, size[1] // stride
        xv, yv = np.meshgrid(np.arange(ws), np.arange(hs))
        grid = np.stack((xv, yv), 2).reshape(1, -1, 2)
        grids.append(grid)
        strides.append(np.full((*grid.shape[:2], 1), stride))
    grids = np.concatenate(grids, 1)
    strides = np.concatenate(strides, 1)
    outputs[..., :2] = (outputs[..., :2] + grids) * strides
    outputs[..., 2:4] = np.exp(outputs[..., 2:4]) * strides
    return outputs


def detect(
    session: ort.InferenceSession, img: np.ndarray, score_thr: float = 0.01, nms_thr: float = 0.45
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(xyxy, score, class) like the demo's ``multiclass_nms`` (class-agnostic)."""
    x, ratio = preproc(img)
    out = session.run(None, {session.get_inputs()[0].name: x[None]})[0]
    pred = postprocess(out)[0]
    boxes = pred[:, :4]
    scores = pred[:, 4:5] * pred[:, 5:]
    xyxy = np.empty_like(boxes)
    xyxy[:, 0] = boxes[:, 0] - boxes[:, 2] / 2
    xyxy[:, 1] = boxes[:, 1] - boxes[:, 3] / 2
    xyxy[:, 2] = boxes[:, 0] + boxes[:, 2] / 2
    xyxy[:, 3] = boxes[:, 1] + boxes[:, 3] / 2
    xyxy /= ratio
    cls = scores.argmax(1)
    best = scores[np.arange(len(cls)), cls]
    keep = best > score_thr
    xyxy, best, cls = xyxy[keep], best[keep], cls[keep]
    xywh = np.hstack([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]])
    idx = cv2.dnn.NMSBoxes(xywh.tolist(), best.tolist(), score_thr, nms_thr)
    idx = np.asarray(idx, dtype=int).reshape(-1)
    return xyxy[idx], best[idx], cls[idx]
