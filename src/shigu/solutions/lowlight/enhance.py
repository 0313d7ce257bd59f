"""Enhancers: BGR uint8 in, BGR uint8 out, same size.

``lyt`` runs LYT-Net at its fixed 640x360 input; ``lyt-fast`` (the default behind ``auto``)
runs the LOL-v2 LYT-Net re-shaped to 192x144, upsamples its output and puts the input's
edges back with a guided filter (``edge_aware_upsample``; docs/lowlight.md has the figures);
``sci`` is SCI made size-free (its graph's H and W symbolic); ``gamma`` maps the mean luma to
0.5 with a gamma curve after a light bilateral denoise; ``clahe`` equalises the L channel of
Lab. ``auto`` enhances only frames whose mean luma is below ``dark_below`` and passes the
others through untouched.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from shigu.core.errors import InputError

METHODS = ("auto", "lyt-fast", "lyt", "sci", "gamma", "clahe")
# mean luma (0..1) below which ``auto`` enhances: a quarter of full scale. On the shared data
# the brightest LOL low-light image is 0.221 and the darkest COCO image 0.269
# (benchmarks/lowlight.py prints both lists): a round value between them, not fitted.
DARK_BELOW = 0.25
# method -> (zoo model, input width, height); lyt-fast runs the 320x240 export re-shaped to
# 192x144 (``resized_lyt``): 0.36 of its pixels (docs/lowlight.md has the sizes tried)
LYT_MODELS = {"lyt": ("lyt-net-lolv1", 640, 360), "lyt-fast": ("lyt-net-lolv2-320", 192, 144)}
SCI_MODEL = "sci-medium"


def mean_luma(image: np.ndarray) -> float:
    """Mean BT.601 luma of a BGR image, 0..1 (on a 1/4-size copy: it is a statistic)."""
    small = image[::4, ::4]
    b, g, r = (small[..., i].astype(np.float32) for i in range(3))
    return float((0.114 * b + 0.587 * g + 0.299 * r).mean() / 255.0)


def _model(path: Path) -> Any:
    from shigu.runtime.session import OnnxModel, default_threads

    return OnnxModel(path, intra_threads=default_threads())


def resized_lyt(path: Path, width: int, height: int) -> Path:
    """A copy of a LYT-Net export made for another fixed input size, made once beside it.

    The export bakes its size into a few integer constants (the targets of its upsampling
    ``Resize`` nodes and its attention reshapes: the input size divided by 1, 2, 4, 8 or 16);
    those are rescaled and the input/output shapes changed. Sizes must be multiples of 16."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    h0, w0 = int(dims[1].dim_value), int(dims[2].dim_value)
    if (w0, h0) == (width, height):
        return path
    if width % 16 or height % 16:
        raise InputError(f"LYT-Net sizes must be multiples of 16, got {width}x{height}")
    target = path.with_name(f"{path.stem}.{width}x{height}.onnx")
    if target.is_file():
        return target
    pairs = {(h0 // k, w0 // k): (height // k, width // k) for k in (1, 2, 4, 8, 16)}
    for init in model.graph.initializer:
        value = numpy_helper.to_array(init)
        key = tuple(int(v) for v in value.ravel())
        if value.dtype.kind == "i" and value.size == 2 and key in pairs:
            new = np.array(pairs[key], dtype=value.dtype).reshape(value.shape)
            init.CopyFrom(numpy_helper.from_array(new, init.name))
    for io in (model.graph.input[0], model.graph.output[0]):
        d = io.type.tensor_type.shape.dim
        d[1].dim_value, d[2].dim_value = height, width
    del model.graph.value_info[:]
    from shigu.io.atomic import atomic_write

    atomic_write(target, model.SerializeToString())
    return target


def size_free(path: Path) -> Path:
    """A copy of a fully convolutional model with symbolic H and W (NCHW), made once beside
    it: SCI is exported at 512x512 but runs at any size."""
    target = path.with_name(path.stem + ".anysize.onnx")
    if not target.is_file():
        import onnx

        from shigu.io.atomic import atomic_write

        model = onnx.load(str(path))
        for value in [*model.graph.input, *model.graph.output]:
            dims = value.type.tensor_type.shape.dim
            dims[2].dim_param, dims[3].dim_param = "H", "W"
        del model.graph.value_info[:]
        atomic_write(target, model.SerializeToString())
    return target


class Enhancer:
    """One method; call with a BGR frame."""

    name = "none"

    def __call__(self, image: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def _box(x: np.ndarray, r: int) -> np.ndarray:
    out: np.ndarray = cv2.boxFilter(x, -1, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)
    return out


def edge_aware_upsample(
    low: np.ndarray, enhanced: np.ndarray, radius: int = 4, eps: float = 1e-4, scale: int = 4
) -> np.ndarray:
    """Put the full-size input's edges back into a network output upsampled from low
    resolution: a guided filter (He et al.) of the output, its guide the input's luma lifted
    to the output's level and bilateral-denoised (so the input's noise is not brought back),
    its coefficients computed on a 1/``scale`` grid (the fast guided filter). BGR uint8 in
    and out, same size. Parameters were chosen by leave-one-image-out over the shared LOL
    pairs (docs/lowlight.md)."""
    h, w = enhanced.shape[:2]
    out_f = enhanced.astype(np.float32) * (1 / 255)
    low_luma = cv2.cvtColor(low.astype(np.float32) * (1 / 255), cv2.COLOR_BGR2GRAY)
    out_luma = cv2.cvtColor(out_f, cv2.COLOR_BGR2GRAY)
    lift = (cv2.GaussianBlur(out_luma, (0, 0), 4) + 1e-3) / (
        cv2.GaussianBlur(low_luma, (0, 0), 4) + 1e-3
    )
    guide = cv2.bilateralFilter(np.minimum(low_luma * lift, 1.0), 5, 0.08, 3)
    size = (max(1, w // scale), max(1, h // scale))
    g = cv2.resize(guide, size, interpolation=cv2.INTER_AREA)
    p = cv2.resize(out_f, size, interpolation=cv2.INTER_AREA)
    r = max(1, radius // scale)
    mean_g = _box(g, r)
    var_g = _box(g * g, r) - mean_g * mean_g
    mean_p = _box(p, r)
    cov = _box(p * g[..., None], r) - mean_g[..., None] * mean_p
    a = cov / (var_g[..., None] + eps)
    b = mean_p - a * mean_g[..., None]
    a = cv2.resize(_box(a, r), (w, h), interpolation=cv2.INTER_LINEAR)
    b = cv2.resize(_box(b, r), (w, h), interpolation=cv2.INTER_LINEAR)
    result: np.ndarray = np.clip(a * guide[..., None] + b, 0, 1) * 255 + 0.5
    return result.astype(np.uint8)


class LytEnhancer(Enhancer):
    def __init__(self, method: str = "lyt-fast") -> None:
        file, self.w, self.h = LYT_MODELS[method]
        self.name = method
        self.refine = method == "lyt-fast"  # run well below the output size: edges back
        from shigu.runtime.zoo import ModelZoo

        self.model = _model(resized_lyt(ModelZoo().path(file), self.w, self.h))

    def __call__(self, image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        rgb = cv2.cvtColor(cv2.resize(image, (self.w, self.h), interpolation=cv2.INTER_AREA),
                           cv2.COLOR_BGR2RGB)  # fmt: skip
        x = rgb.astype(np.float32) / 127.5 - 1.0
        y = self.model.run(x[None])[0][0]
        out = np.clip((y + 1.0) * 127.5, 0, 255)
        out = cv2.resize(out, (w, h), interpolation=cv2.INTER_CUBIC)
        bgr: np.ndarray = cv2.cvtColor(np.clip(out, 0, 255).round().astype(np.uint8),
                                       cv2.COLOR_RGB2BGR)  # fmt: skip
        return edge_aware_upsample(image, bgr) if self.refine else bgr


class SciEnhancer(Enhancer):
    name = "sci"

    def __init__(self) -> None:
        from shigu.runtime.zoo import ModelZoo

        self.model = _model(size_free(ModelZoo().path(SCI_MODEL)))

    def __call__(self, image: np.ndarray) -> np.ndarray:
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
        out = self.model.run(np.ascontiguousarray(rgb.transpose(2, 0, 1)[None]))[1][0]
        rgb8 = np.clip(out.transpose(1, 2, 0) * 255.0, 0, 255).round().astype(np.uint8)
        bgr: np.ndarray = cv2.cvtColor(rgb8, cv2.COLOR_RGB2BGR)
        return bgr


class GammaEnhancer(Enhancer):
    """Gamma that takes the mean luma to ``target``, after a bilateral denoise of the input."""

    name = "gamma"

    def __init__(self, target: float = 0.5) -> None:
        self.target = target

    def __call__(self, image: np.ndarray) -> np.ndarray:
        mean = min(max(mean_luma(image), 1e-3), 0.999)
        gamma = math.log(self.target) / math.log(mean)
        smooth = cv2.bilateralFilter(image, 5, 12, 5)
        lut = np.clip(((np.arange(256) / 255.0) ** gamma) * 255.0, 0, 255).round()
        return cv2.LUT(smooth, lut.astype(np.uint8))


class ClaheEnhancer(Enhancer):
    name = "clahe"

    def __init__(self, clip: float = 3.0, tiles: int = 8) -> None:
        self.clahe = cv2.createCLAHE(clipLimit=clip, tileGridSize=(tiles, tiles))

    def __call__(self, image: np.ndarray) -> np.ndarray:
        lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)
        lab[..., 0] = self.clahe.apply(lab[..., 0])
        return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)


class AutoEnhancer(Enhancer):
    """Enhance dark frames only (mean luma below ``dark_below``); others pass untouched."""

    name = "auto"

    def __init__(self, inner: Enhancer, dark_below: float = DARK_BELOW) -> None:
        self.inner = inner
        self.dark_below = dark_below
        self.enhanced = 0
        self.passed = 0

    def __call__(self, image: np.ndarray) -> np.ndarray:
        if mean_luma(image) >= self.dark_below:
            self.passed += 1
            return image
        self.enhanced += 1
        return self.inner(image)


class SteadyBrightness:
    """Video: scale each enhanced frame so its mean luma follows a running average (``alpha``
    per frame), so brightness does not flicker when the network's output level jumps."""

    def __init__(self, alpha: float = 0.2) -> None:
        self.alpha = alpha
        self.level: float | None = None

    def __call__(self, original: np.ndarray, enhanced: np.ndarray) -> np.ndarray:
        if enhanced is original:  # passed through by ``auto``: nothing to steady
            self.level = None
            return enhanced
        level = max(mean_luma(enhanced), 1e-3)
        self.level = (
            level if self.level is None else ((1 - self.alpha) * self.level + self.alpha * level)
        )
        gain = self.level / level
        if abs(gain - 1) < 0.01:
            return enhanced
        scaled: np.ndarray = np.clip(enhanced.astype(np.float32) * gain, 0, 255).round()
        return scaled.astype(np.uint8)


def make_enhancer(method: str = "auto", dark_below: float = DARK_BELOW) -> Enhancer:
    """The enhancer for a method name (``InputError`` for an unknown one)."""
    if method == "auto":
        return AutoEnhancer(LytEnhancer("lyt-fast"), dark_below)
    if method in LYT_MODELS:
        return LytEnhancer(method)
    if method == "sci":
        return SciEnhancer()
    if method == "gamma":
        return GammaEnhancer()
    if method == "clahe":
        return ClaheEnhancer()
    raise InputError(f"unknown enhancement method {method!r}", f"choose {', '.join(METHODS)}")
