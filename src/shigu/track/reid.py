"""Appearance embeddings for re-identification after occlusion (ONNX Runtime)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from shigu.core.errors import ModelError
from shigu.runtime.session import OnnxModel


class ReIDModel:
    """Unit-length appearance vectors for person crops.

    Works with NHWC models such as Intel's ``person-reidentification-retail-0288``
    (1x256x128x3 BGR 0-255 in, 256-d out; registry name ``person-reid-0288``) and with NCHW
    models (RGB, ImageNet normalisation) such as OSNet exports.
    """

    def __init__(
        self, model: str | Path = "person-reid-0288", device: str = "cpu", threads: int = 1
    ) -> None:
        from shigu.runtime.registry import MODELS
        from shigu.runtime.zoo import ModelZoo

        spec = MODELS.get(str(model))
        if spec is not None and spec.format != "reid":
            raise ModelError(
                f"{model} is a {spec.format} model, not a ReID embedder",
                "use --reid person-reid-0288 or an ONNX embedding model",
            )
        path = ModelZoo().path(str(model)) if spec is not None else Path(model)
        self.model = OnnxModel(path, device=device, intra_threads=threads)
        shape = self.model.input_shape
        if len(shape) != 4:
            raise ModelError(f"{path} does not take images (input shape {shape})")
        self.nhwc = shape[3] == 3
        if self.nhwc:
            self.height, self.width = int(shape[1] or 256), int(shape[2] or 128)
        else:
            self.height, self.width = int(shape[2] or 256), int(shape[3] or 128)
        out = self.model.outputs[0].shape
        feature_dims = [d for d in out[1:] if not (isinstance(d, int) and d == 1)]
        if len(feature_dims) != 1:
            raise ModelError(
                f"{path} does not output one embedding per crop (output shape {out})",
                "give a ReID model such as person-reid-0288",
            )
        self.dim = int(feature_dims[0] or 256) if isinstance(feature_dims[0], int) else 256

    def embed(
        self, image: npt.NDArray[np.uint8], xyxy: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float32]:
        """(N, dim) L2-normalised embeddings of the boxes' crops."""
        n = len(xyxy)
        if n == 0:
            return np.zeros((0, self.dim), np.float32)
        h, w = image.shape[:2]
        batch = np.empty((n, self.height, self.width, 3), np.float32)
        for i, (x1, y1, x2, y2) in enumerate(xyxy):
            xa, ya = int(max(0, min(w - 1, x1))), int(max(0, min(h - 1, y1)))
            xb, yb = int(max(xa + 1, min(w, x2))), int(max(ya + 1, min(h, y2)))
            batch[i] = cv2.resize(image[ya:yb, xa:xb], (self.width, self.height))
        if not self.nhwc:
            rgb = batch[..., ::-1] / 255.0
            rgb = (rgb - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
            batch = np.ascontiguousarray(rgb.transpose(0, 3, 1, 2), dtype=np.float32)
        (features,) = self.model.run(batch)
        features = features.reshape(n, -1).astype(np.float32)
        features /= np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-6)
        return features
