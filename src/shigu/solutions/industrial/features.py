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
from typing import Any

import cv2
import numpy as np

from shigu.core.errors import InputError, ModelError
from shigu.runtime.session import OnnxModel

RESIZE_MODES = ("scale", "stretch")


@dataclass(frozen=True)
class Prepared:
    """One image as the network sees it: the (1, 3, H, W) input and where the image's own
    pixels are in it (the rest is padding)."""

    batch: np.ndarray
    top: int
    left: int
    height: int
    width: int


@dataclass(frozen=True)
class Preprocess:
    """How an image becomes a network input, then ``(x - mean) / std`` per channel on the
    0-255 scale, RGB (identity for our own export, which normalises inside the graph).

    ``resize="stretch"``: every image resized to ``size`` (height, width), whatever its shape.
    ``resize="scale"``: every image scaled by the one factor ``scale`` (so all keep their
    shape and the same pixel size), then padded by reflection to sides that are multiples of
    ``multiple``; the padding is cut off the anomaly map again.
    """

    size: tuple[int, int] = (256, 256)
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    resize: str = "stretch"
    scale: float = 1.0
    multiple: int = 32

    def __post_init__(self) -> None:
        if self.resize not in RESIZE_MODES:
            raise ModelError(f"unknown resize mode {self.resize!r}", "use scale or stretch")
        if not (self.scale > 0 and np.isfinite(self.scale)) or self.multiple < 1:
            raise ModelError(f"bad preprocessing scale {self.scale} / multiple {self.multiple}")

    @staticmethod
    def _check(image: np.ndarray) -> None:
        if image.ndim != 3 or image.shape[2] != 3:
            raise InputError(f"expected a colour image (H, W, 3), got shape {image.shape}")

    def _normalise(self, batch: np.ndarray) -> np.ndarray:
        if any(s != 1.0 for s in self.std):
            batch = batch * (1.0 / np.asarray(self.std, np.float32))[None, :, None, None]
        return batch

    def __call__(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """BGR uint8 images → (N, 3, H, W) float32 (stretch mode, or same-shaped images)."""
        if self.resize == "scale":
            parts = [self.prepare(image) for image in images]
            if len({p.batch.shape for p in parts}) > 1:
                raise InputError("images of different shapes cannot share one batch")
            return np.concatenate([p.batch for p in parts])
        h, w = self.size
        for image in images:
            self._check(image)
        # OpenCV's blob maker resizes, swaps BGR→RGB, subtracts the mean and goes NCHW in C++.
        batch = cv2.dnn.blobFromImages(
            list(images), 1.0, (w, h), tuple(self.mean), swapRB=True, crop=False
        )
        return self._normalise(batch)

    def input_shape(self, image_shape: tuple[int, ...]) -> tuple[int, int, int, int]:
        """(input height, input width, top, left) of an image of this shape: images with
        the same answer can share a batch."""
        if self.resize == "stretch":
            return self.size[0], self.size[1], 0, 0
        h, w = self._scaled(image_shape)
        m = self.multiple
        ph, pw = -h % m, -w % m
        return h + ph, w + pw, ph // 2, pw // 2

    def _scaled(self, image_shape: tuple[int, ...]) -> tuple[int, int]:
        h, w = image_shape[:2]
        return max(1, round(h * self.scale)), max(1, round(w * self.scale))

    def prepare(self, image: np.ndarray) -> Prepared:
        """One BGR uint8 image as a network input, and where it lies in it."""
        self._check(image)
        if self.resize == "stretch":
            return Prepared(self([image]), 0, 0, self.size[0], self.size[1])
        h, w = self._scaled(image.shape)
        full_h, full_w, top, left = self.input_shape(image.shape)
        if (h, w) != image.shape[:2]:
            shrink = h < image.shape[0]
            image = cv2.resize(
                image, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
            )
        if (full_h, full_w) != (h, w):
            # reflection continues the texture; it needs the image to be larger than the pad
            fits = min(h, w) > max(full_h - h, full_w - w)
            border = cv2.BORDER_REFLECT_101 if fits else cv2.BORDER_REPLICATE
            image = cv2.copyMakeBorder(
                image, top, full_h - h - top, left, full_w - w - left, border
            )
        batch = cv2.dnn.blobFromImage(
            image, 1.0, (full_w, full_h), tuple(self.mean), swapRB=True, crop=False
        )
        return Prepared(self._normalise(batch), top, left, h, w)

    def describe(self) -> str:
        """One line for the user: what happens to image sizes."""
        if self.resize == "stretch":
            return f"images resized to {self.size[1]}x{self.size[0]} (aspect not kept)"
        return (
            f"images scaled by {self.scale:.3f} keeping their shape, padded by reflection "
            f"to multiples of {self.multiple}"
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"size": list(self.size), "mean": list(self.mean),
                               "std": list(self.std), "resize": self.resize}  # fmt: skip
        if self.resize == "scale":
            out.update(scale=self.scale, multiple=self.multiple)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Preprocess:
        size = tuple(int(v) for v in data["size"])
        mean = tuple(float(v) for v in data["mean"])
        std = tuple(float(v) for v in data["std"])
        if len(size) != 2 or len(mean) != 3 or len(std) != 3:
            raise ModelError("model preprocessing must have a 2-value size, 3 means, 3 stds")
        return cls(
            size,
            mean,
            std,
            str(data.get("resize", "stretch")),  # models before 2026-12-06 stretched
            float(data.get("scale", 1.0)),
            int(data.get("multiple", 32)),
        )


@dataclass(frozen=True)
class Embedded:
    """One image's patch vectors (h, w, D), the network input's (height, width), the box
    (top, left, height, width) of the image's pixels in it, and the image's own shape."""

    features: np.ndarray
    input_size: tuple[int, int]
    box: tuple[int, int, int, int]
    image_size: tuple[int, int]


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

    def embed_images(self, images: Sequence[np.ndarray], batch: int = 8) -> list[Embedded]:
        """Each image's patch vectors with where its pixels lie in the network input; images
        with the same input shape go through the network together, ``batch`` at a time."""
        out: list[Embedded | None] = [None] * len(images)
        groups: dict[tuple[int, int, int, int], list[int]] = {}
        for i, image in enumerate(images):
            Preprocess._check(image)
            groups.setdefault(self.preprocess.input_shape(image.shape), []).append(i)
        for members in groups.values():
            full_h, full_w, _, _ = self.preprocess.input_shape(images[members[0]].shape)
            for lo in range(0, len(members), batch):
                chunk = members[lo : lo + batch]
                if self.preprocess.resize == "stretch":  # one blob for the chunk, no padding
                    inputs = self.preprocess([images[i] for i in chunk])
                    boxes = [(0, 0, full_h, full_w)] * len(chunk)
                else:
                    prepared = [self.preprocess.prepare(images[i]) for i in chunk]
                    inputs = np.concatenate([p.batch for p in prepared])
                    boxes = [(p.top, p.left, p.height, p.width) for p in prepared]
                emb = self.embed_maps(self.forward(inputs))
                for i, box, e in zip(chunk, boxes, emb, strict=True):
                    out[i] = Embedded(e, (full_h, full_w), box, images[i].shape[:2])
        return [e for e in out if e is not None]

    @property
    def size(self) -> tuple[int, int]:
        return self.preprocess.size
