"""Build a detector from a registry name or a local ONNX file, in one call."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shigu.core.errors import InputError, ModelError
from shigu.core.labels import COCO80, label_set, resolve_classes
from shigu.detect.base import Detector
from shigu.detect.nanodet import NanoDetDetector
from shigu.detect.yolov8 import YOLOv8Detector
from shigu.detect.yolox import YOLOXDetector
from shigu.detect.yunet import YuNetDetector
from shigu.runtime.registry import MODELS
from shigu.runtime.session import OnnxModel
from shigu.runtime.zoo import ModelZoo

# One visible table from format names to decoder classes.
DETECTORS: dict[str, type[Detector]] = {
    "yolox": YOLOXDetector,
    "nanodet": NanoDetDetector,
    "yolov8": YOLOv8Detector,
    "yolo11": YOLOv8Detector,
    "yunet": YuNetDetector,
}


def all_decoders() -> dict[str, type[Detector]]:
    """The built-in decoders and those plugins add (entry-point group ``shigu.decoders``)."""
    from shigu.core.plugins import plugins

    return {**DETECTORS, **plugins("shigu.decoders", Detector)}


def guess_format(model: OnnxModel) -> str:
    """Guess the decoder from a model's outputs; raise ``ModelError`` when none fits."""
    names = {o.name for o in model.outputs}
    if {"cls_8", "obj_8", "bbox_8", "kps_8"} <= names:
        return "yunet"
    if any(n.startswith("cls_pred_stride_") for n in names):
        return "nanodet"
    shape = model.input_shape
    w, h = (shape[3], shape[2]) if len(shape) == 4 and shape[2] and shape[3] else (640, 640)
    anchors = sum((w // s) * (h // s) for s in (8, 16, 32))
    if len(model.outputs) == 1 and len(model.outputs[0].shape) == 3:
        _, a, b = model.outputs[0].shape
        if b == anchors and a is not None and a >= 5:
            return "yolov8"
        if a == anchors and b is not None and b >= 6:
            if b == 85 or b == 6:
                return "yolox"
            if b == 84:
                return "yolov8"
            raise ModelError(
                f"{model.path.name} has one (1, {a}, {b}) output, which could be "
                "YOLOX or a transposed YOLOv8 export",
                "pass --format yolox or --format yolov8",
            )
    shapes = ", ".join(f"{o.name}{list(o.shape)}" for o in model.outputs)
    raise ModelError(
        f"{model.path.name} has outputs {shapes}, which match no known detector format",
        f"pass --format (one of: {', '.join(DETECTORS)}) if you know it",
    )


def read_labels(spec: str | Path | None, count_hint: int | None = None) -> tuple[str, ...]:
    """Labels from a label-set name, a text file (one per line), or COCO-80 by default."""
    if spec is None:
        if count_hint in (None, 80):
            return COCO80
        return tuple(f"class{i}" for i in range(count_hint or 0))
    text = str(spec)
    try:
        return label_set(text)
    except KeyError:
        pass
    path = Path(text)
    if not path.is_file():
        raise InputError(
            f"labels {text!r} is neither a label set nor a file",
            "use coco80, person, face or a text file with one name per line",
        )
    return tuple(
        line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    )


def load_detector(
    model: str = "yolox-nano",
    *,
    format: str | None = None,
    device: str = "cpu",
    conf: float | None = None,
    iou: float = 0.45,
    classes: str | Sequence[str] | None = None,
    labels: str | None = None,
    max_det: int = 300,
    threads: int = 0,
    zoo: ModelZoo | None = None,
) -> Detector:
    """A ready detector.

    Args:
        model: registry name (``yolox-nano``, ``nanodet-m``, ``yunet-face``, ...) or an
            ``.onnx`` path.
        format: decoder for a local file (``yolox``, ``nanodet``, ``yolov8``, ``yunet``);
            guessed from the outputs when omitted.
        classes: names or ids to keep, e.g. ``"person,car"``.
        labels: label-set name or labels file for a local model.
        conf: score threshold; default the registry's per-model value (0.25 for a local file).
    """
    decoders = all_decoders()
    if format is not None and format not in decoders:
        raise InputError(f"unknown model format {format!r}", f"use one of: {', '.join(decoders)}")
    if model in MODELS:
        spec = MODELS[model]
        if spec.format not in DETECTORS:
            raise InputError(f"{model} is a {spec.format} model, not a detector")
        path = (zoo or ModelZoo()).path(model)
        fmt = format or spec.format
        names = label_set(spec.labels) if labels is None else read_labels(labels)
        conf = spec.default_conf if conf is None else conf
    else:
        path = Path(model)
        if path.suffix.lower() != ".onnx" and not path.exists():
            raise ModelError(
                f"unknown model {model!r}",
                f"known models: {', '.join(MODELS)}; or pass a path to a .onnx file",
            )
        if not path.is_file():
            raise ModelError(f"model file not found: {model}", "check the path")
        fmt = format or ""
        names = ()
    onnx = OnnxModel(path, device=device, intra_threads=threads)
    if not fmt:
        fmt = guess_format(onnx)
    if not names:
        names = read_labels(labels, _class_count(onnx, fmt))
    wanted = classes if classes is None or isinstance(classes, str) else list(classes)
    class_ids = resolve_classes(wanted, names)
    threshold = 0.25 if conf is None else conf
    return decoders[fmt](onnx, names, conf=threshold, iou=iou, classes=class_ids, max_det=max_det)


def _class_count(model: OnnxModel, fmt: str) -> int | None:
    out = model.outputs
    if fmt == "yunet":
        return 1
    if fmt == "nanodet":
        for o in out:
            if o.name.startswith("cls_pred_stride_"):
                return o.shape[-1]
        return None
    if len(out) == 1 and len(out[0].shape) == 3:
        _, a, b = out[0].shape
        if fmt == "yolox" and b:
            return b - 5
        if fmt in ("yolov8", "yolo11") and a and b:
            return min(a, b) - 4
    return None
