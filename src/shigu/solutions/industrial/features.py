"""Patch features from an ONNX backbone: the shared front end of PatchCore and PaDiM.

A backbone is any ONNX model taking ``images`` (N, 3, H, W) float32 RGB and returning 4-D
feature maps. Each map is averaged over a 3x3 neighbourhood (PatchCore's local aggregation),
resized to the finest map's grid and concatenated: one D-dimensional vector per patch.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from shigu.core.errors import InputError, ModelError
from shigu.runtime.session import OnnxModel


@dataclass(frozen=True)
class Preprocess:
    """How an image becomes a network input: resized to ``size`` (height, width), RGB,
    then ``(x - mean) / std`` per channel on the 0-255 scale (identity for our own export,
    which normalises inside the graph)."""

    size: tuple[int, int] = (256, 256)
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)

    def __call__(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """BGR uint8 images of any size → (N, 3, H, W) float32."""
        h, w = self.size
        for image in images:
            if image.ndim != 3 or image.shape[2] != 3:
                raise InputError(f"expected a colour image (H, W, 3), got shape {image.shape}")
        # OpenCV's blob maker resizes, swaps BGR→RGB, subtracts the mean and goes NCHW in C++.
        batch = cv2.dnn.blobFromImages(
            list(images), 1.0, (w, h), tuple(self.mean), swapRB=True, crop=False
        )
        if any(s != 1.0 for s in self.std):
            batch = batch * (1.0 / np.asarray(self.std, np.float32))[None, :, None, None]
        return batch

    def to_json(self) -> dict[str, list[float] | list[int]]:
        return {"size": list(self.size), "mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_json(cls, data: dict[str, list[float]]) -> Preprocess:
        size = tuple(int(v) for v in data["size"])
        mean = tuple(float(v) for v in data["mean"])
        std = tuple(float(v) for v in data["std"])
        if len(size) != 2 or len(mean) != 3 or len(std) != 3:
            raise ModelError("model preprocessing must have a 2-value size, 3 means, 3 stds")
        return cls(size, mean, std)


@functools.lru_cache(maxsize=32)
def channel_pooling(channels: int, out: int) -> np.ndarray:
    """(channels, out) matrix of 1-D adaptive average pooling over channels (PyTorch's bins).

    PatchCore brings every layer to the same width this way so that each layer weighs the
    same in patch distances, whatever its channel count.
    """
    matrix = np.zeros((channels, out), dtype=np.float32)
    for i in range(out):
        lo = (i * channels) // out
        hi = -((-(i + 1) * channels) // out)
        matrix[lo:hi, i] = 1.0 / (hi - lo)
    return matrix


@dataclass
class PatchEmbedder:
    """Runs the backbone and turns its maps into patch vectors (N, h, w, D).

    ``layer_dims``: each layer is pooled to this many channels (0 keeps them as they are).
    """

    model_path: Path
    preprocess: Preprocess
    layers: tuple[str, ...] = ()
    device: str = "cpu"
    spin: bool = False
    layer_dims: int = 0
    model: OnnxModel = field(init=False)

    def __post_init__(self) -> None:
        # No spinning by default: scoring in NumPy follows every run and needs the cores.
        self.model = OnnxModel(self.model_path, device=self.device, spin=self.spin)
        names = self.model.output_names
        if not self.layers:
            self.layers = tuple(names)
        missing = [n for n in self.layers if n not in names]
        if missing:
            raise ModelError(
                f"backbone {self.model_path.name} has no output named {', '.join(missing)}",
                f"its outputs are: {', '.join(names)}",
            )

    def forward(self, batch: np.ndarray) -> list[np.ndarray]:
        """The bare backbone: the raw feature maps for a preprocessed batch."""
        outs = self.model.run(batch, list(self.layers))
        for name, out in zip(self.layers, outs, strict=True):
            if out.ndim != 4:
                raise ModelError(
                    f"backbone output {name!r} has shape {out.shape}; expected (N, C, H, W)"
                )
        return outs

    def embed_maps(self, maps: list[np.ndarray]) -> np.ndarray:
        """Channel pooling, local 3x3 averaging, resize to the finest grid, concatenate:
        (N, h, w, D). The pooling is linear, so it goes first, where the maps are smallest."""
        last = []  # channel-last, so OpenCV filters every channel at once
        for m in maps:
            nhwc = m.transpose(0, 2, 3, 1)
            if self.layer_dims:
                nhwc = nhwc @ channel_pooling(m.shape[1], self.layer_dims)
            last.append(np.ascontiguousarray(nhwc, dtype=np.float32))
        h, w = max((m.shape[1], m.shape[2]) for m in last)
        n = last[0].shape[0]
        dims = sum(m.shape[3] for m in last)
        out = np.empty((n, h, w, dims), dtype=np.float32)
        for i in range(n):
            start = 0
            for m in last:
                c = m.shape[3]
                for lo in range(0, c, 512):  # OpenCV takes up to 512 channels at a time
                    hi = min(c, lo + 512)
                    part = np.ascontiguousarray(m[i, :, :, lo:hi])
                    pooled = cv2.blur(part, (3, 3), borderType=cv2.BORDER_CONSTANT)
                    if pooled.shape[:2] != (h, w):
                        pooled = cv2.resize(pooled, (w, h), interpolation=cv2.INTER_LINEAR)
                    out[i, :, :, start + lo : start + hi] = pooled.reshape(h, w, hi - lo)
                start += c
        return out

    def __call__(self, images: Sequence[np.ndarray]) -> np.ndarray:
        return self.embed_maps(self.forward(self.preprocess(images)))

    @property
    def size(self) -> tuple[int, int]:
        return self.preprocess.size
