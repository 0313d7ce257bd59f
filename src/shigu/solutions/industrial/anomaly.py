"""Train, save, load and run an anomaly inspection model (PatchCore or PaDiM).

``train`` fits on good images only, holds some of them back to calibrate the decision
threshold, and returns an :class:`AnomalyModel`; ``AnomalyModel.predict`` gives, per image,
a score, a verdict, an anomaly map at the image's own size, a binary mask and defect regions.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from shigu.core.errors import InputError, ModelError
from shigu.runtime.zoo import shigu_home
from shigu.solutions.industrial import model_file
from shigu.solutions.industrial.efficientnet_lite import NETWORKS  # no torch at import
from shigu.solutions.industrial.features import (
    RESIZE_MODES,
    Embedded,
    PatchEmbedder,
    Preprocess,
)
from shigu.solutions.industrial.padim import Padim
from shigu.solutions.industrial.patchcore import PatchCore

log = logging.getLogger(__name__)
METHODS = ("patchcore", "padim")
DEFAULT_LAYERS = ("s8", "s16")
Scorer = PatchCore | Padim


def default_backbone(size: tuple[int, int] | None = None, network: str = "lite0") -> Path:
    """An ImageNet EfficientNet-Lite feature extractor as ONNX, exported once and cached: for
    inputs of one ``size`` (height, width), or of any sides that are multiples of 32."""
    name = "any32" if size is None else f"{size[0]}x{size[1]}"
    path = shigu_home() / "backbones" / f"efficientnet_{network}_s8_s16_{name}.onnx"
    if not path.is_file():
        from shigu.solutions.industrial import efficientnet_lite

        log.info("exporting EfficientNet-%s to %s", network.title(), path)
        efficientnet_lite.export_onnx(path, size=size, layers=DEFAULT_LAYERS, network=network)
    return path


def _cached_backbone(data: bytes) -> Path:
    """Content-addressed copy of a model's backbone, so ONNX Runtime can open it by path."""
    digest = hashlib.sha256(data).hexdigest()[:16]
    path = shigu_home() / "backbones" / f"embedded-{digest}.onnx"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


@dataclass
class Region:
    """A connected defect region in image pixels."""

    x: int
    y: int
    w: int
    h: int
    area: int
    max_score: float

    def to_json(self) -> dict[str, float | int]:
        return {
            "x": self.x,
            "y": self.y,
            "w": self.w,
            "h": self.h,
            "area": self.area,
            "max_score": round(self.max_score, 4),
        }


@dataclass
class Prediction:
    """What the model says about one image."""

    score: float
    anomalous: bool
    anomaly_map: np.ndarray  # (H, W) float32, image size
    mask: np.ndarray  # (H, W) uint8 0/255
    regions: list[Region] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 4),
            "anomalous": self.anomalous,
            "regions": [r.to_json() for r in self.regions],
        }


def _regions(mask: np.ndarray, amap: np.ndarray, min_area: int) -> list[Region]:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    out = []
    for k in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[k])
        if area < min_area:
            continue
        out.append(Region(x, y, w, h, area, float(amap[labels == k].max())))
    return sorted(out, key=lambda r: -r.max_score)


class AnomalyModel:
    """A backbone, a scorer and a threshold: everything needed to inspect an image."""

    def __init__(
        self,
        embedder: PatchEmbedder,
        scorer: Scorer,
        threshold: float,
        sigma: float = 4.0,
        meta: dict[str, Any] | None = None,
        backbone_bytes: bytes | None = None,
    ) -> None:
        self.embedder = embedder
        self.scorer = scorer
        self.threshold = float(threshold)
        self.sigma = sigma
        self.meta = dict(meta or {})
        self._backbone_bytes = backbone_bytes

    @property
    def method(self) -> str:
        return self.scorer.method

    @property
    def size(self) -> tuple[int, int]:
        return self.embedder.size

    def maps(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Anomaly maps, each at its image's own size (float32)."""
        return self.maps_of(self.embedder.embed_images(images))

    def maps_of(self, embedded: Sequence[Embedded]) -> list[np.ndarray]:
        """Patch distances upsampled to the network input, smoothed, the padding cut off and
        brought to the image's size."""
        out: list[np.ndarray] = [np.zeros(0, np.float32)] * len(embedded)
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, e in enumerate(embedded):
            groups.setdefault(e.features.shape, []).append(i)
        for members in groups.values():
            patch = self.scorer.patch_scores(np.stack([embedded[i].features for i in members]))
            for i, p in zip(members, patch, strict=True):
                e = embedded[i]
                h, w = e.input_size
                up = cv2.resize(p, (w, h), interpolation=cv2.INTER_LINEAR)
                if self.sigma > 0:
                    up = cv2.GaussianBlur(up, (0, 0), self.sigma)
                top, left, bh, bw = e.box
                up = up[top : top + bh, left : left + bw]
                ih, iw = e.image_size
                if up.shape != (ih, iw):
                    up = cv2.resize(up, (iw, ih), interpolation=cv2.INTER_LINEAR)
                out[i] = np.ascontiguousarray(up, dtype=np.float32)
        return out

    def predict(self, images: Sequence[np.ndarray], min_area: int = 16) -> list[Prediction]:
        """Score, verdict, image-sized map, mask and regions for each image."""
        results = []
        for full in self.maps(images):
            score = float(full.max())
            mask = np.where(full >= self.threshold, 255, 0).astype(np.uint8)
            regions = _regions(mask, full, min_area) if score >= self.threshold else []
            results.append(Prediction(score, score >= self.threshold, full, mask, regions))
        return results

    def save(self, path: str | Path) -> Path:
        backbone = self._backbone_bytes or self.embedder.model_path.read_bytes()
        manifest = {
            "method": self.method,
            "preprocess": self.embedder.preprocess.to_json(),
            "layers": list(self.embedder.layers),
            "layer_dims": self.embedder.layer_dims,
            "threshold": self.threshold,
            "sigma": self.sigma,
            "meta": self.meta,
        }
        return model_file.write(path, manifest, backbone, self.scorer.arrays())

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> AnomalyModel:
        manifest, backbone, arrays = model_file.read(path)
        try:
            method = manifest["method"]
            preprocess = Preprocess.from_json(manifest["preprocess"])
            layers = tuple(manifest["layers"])
            threshold = float(manifest["threshold"])
            sigma = float(manifest.get("sigma", 4.0))
            scorer: Scorer
            if method == "patchcore":
                scorer = PatchCore.from_arrays(arrays)
            elif method == "padim":
                scorer = Padim.from_arrays(arrays)
            else:
                raise ModelError(f"{path}: unknown method {method!r}", "upgrade shigu")
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(
                f"{path}: manifest is incomplete ({exc})", "retrain the model"
            ) from exc
        embedder = PatchEmbedder(
            _cached_backbone(backbone),
            preprocess,
            layers,
            device=device,
            layer_dims=int(manifest.get("layer_dims", 0)),
        )
        return cls(embedder, scorer, threshold, sigma, manifest.get("meta", {}), backbone)


def calibrate_threshold(scores: np.ndarray) -> float:
    """Decision threshold from good validation images: above every one of them, with margin.

    ``max(mean + 3 std, max) * 1.05``: with few images the maximum decides, with many the
    3-sigma rule does; the 5 % margin absorbs lighting drift on the line.
    """
    if len(scores) == 0:
        raise InputError("no validation images to calibrate the threshold on")
    s = np.asarray(scores, dtype=np.float64)
    spread = float(s.std()) if len(s) > 1 else 0.0
    return float(max(s.mean() + 3.0 * spread, s.max()) * 1.05)


def _batched(items: list[np.ndarray], size: int) -> list[list[np.ndarray]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _resolve_preprocess(
    resize: str,
    method: str,
    builtin: bool,
    size: tuple[int, int],
    images: list[np.ndarray],
    mean: tuple[float, float, float],
    std: tuple[float, float, float],
) -> Preprocess:
    """The preprocessing ``train`` uses: ``auto`` keeps the images' shape (scale) for
    PatchCore on the built-in backbone, and stretches them otherwise."""
    if resize == "auto":
        resize = "scale" if method == "patchcore" and builtin else "stretch"
    if resize not in RESIZE_MODES:
        raise InputError(f"unknown --resize {resize!r}", "use auto, scale or stretch")
    if resize == "stretch":
        return Preprocess(size, mean, std)
    if method == "padim":
        raise InputError(
            "PaDiM compares each patch with the same place in the training images, so the "
            "images must share one shape",
            "use --resize stretch with --method padim",
        )
    if size[0] != size[1]:
        raise InputError(
            f"--size {size[0]}x{size[1]} sets a fixed input shape, which --resize scale does "
            "not use",
            "give one number (the typical image's shorter side in network pixels) or use "
            "--resize stretch",
        )
    typical = float(np.median([min(image.shape[:2]) for image in images]))
    return Preprocess(size, mean, std, "scale", size[0] / max(typical, 1.0))


def train(
    images: list[np.ndarray],
    method: str = "patchcore",
    backbone: str | Path | None = None,
    size: tuple[int, int] = (256, 256),
    preprocess: Preprocess | None = None,
    layers: tuple[str, ...] | None = None,
    layer_dims: int = 64,
    val_fraction: float = 0.2,
    coreset_ratio: float = 0.01,
    bank_min: int = 1024,
    bank_max: int = 16384,
    seed: int = 0,
    device: str = "cpu",
    batch: int = 8,
    progress: Callable[[int], None] | None = None,
    resize: str = "auto",
    network: str = "lite0",
) -> AnomalyModel:
    """Fit on good images: embed, split off validation images, build the scorer, calibrate.

    ``resize``: ``scale`` brings every image to the network by one factor (the typical
    image's shorter side becomes ``size``), keeping its shape; ``stretch`` resizes each to
    ``size`` whatever its shape; ``auto`` is ``scale`` for PatchCore on the built-in backbone.
    ``network``: the built-in backbone, ``lite0`` (fast) or ``lite2`` (slower, finer textures).
    """
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}", f"use one of: {', '.join(METHODS)}")
    if len(images) < 2:
        raise InputError(
            f"need at least 2 good images to train, got {len(images)}",
            "add more good images (dozens to hundreds are typical)",
        )
    if not 0.0 <= val_fraction < 1.0:
        raise InputError(f"--val-fraction must be in [0, 1), got {val_fraction}")
    if network not in NETWORKS:
        raise InputError(f"unknown --network {network!r}", f"use one of: {', '.join(NETWORKS)}")
    if backbone is not None and network != "lite0":
        raise InputError("--network picks the built-in backbone; --backbone replaces it",
                         "give one of them")  # fmt: skip
    started = time.perf_counter()
    if backbone is None:
        identity = ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))  # our export normalises in the graph
        preprocess = preprocess or _resolve_preprocess(
            resize, method, True, size, images, *identity
        )
        model_path = default_backbone(None if preprocess.resize == "scale" else size, network)
        layers = layers or DEFAULT_LAYERS
    else:
        model_path = Path(backbone)
        imagenet = ((123.675, 116.28, 103.53), (58.395, 57.12, 57.375))
        preprocess = preprocess or _resolve_preprocess(
            resize, method, False, size, images, *imagenet
        )
    embedder = PatchEmbedder(
        model_path, preprocess, layers or (), device=device, layer_dims=layer_dims
    )
    if preprocess.resize == "scale":
        dims = embedder.model.input_shape[2:]
        if any(isinstance(d, int) and d > 0 for d in dims):
            raise InputError(
                f"backbone {model_path.name} takes a fixed input size {dims}, which "
                "--resize scale cannot give it",
                "use --resize stretch, or export the backbone with symbolic height and width",
            )
    emb: list[Embedded] = []
    for chunk in _batched(images, batch):
        emb += embedder.embed_images(chunk, batch)
        if progress:
            progress(len(chunk))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(emb))
    n_val = round(len(emb) * val_fraction)
    n_val = min(n_val, len(emb) - 1)
    val_idx, fit_idx = order[:n_val], np.sort(order[n_val:])
    feature_seconds = time.perf_counter() - started
    dims_out = int(emb[0].features.shape[-1])
    scorer: Scorer
    if method == "patchcore":
        flat = np.concatenate([emb[i].features.reshape(-1, dims_out) for i in fit_idx])
        scorer = PatchCore.fit(flat, coreset_ratio, bank_min, bank_max, seed)
    else:
        scorer = Padim.fit(np.stack([emb[i].features for i in fit_idx]), seed=seed)
    model = AnomalyModel(embedder, scorer, threshold=np.inf)
    if n_val:
        val_scores = np.array([m.max() for m in model.maps_of([emb[i] for i in val_idx])])
    else:  # no hold-out: leave-in scores are optimistic, so widen the margin
        val_scores = np.array([m.max() for m in model.maps_of(emb)]) * 1.5
    model.threshold = calibrate_threshold(val_scores)
    model.meta = {
        "train_images": len(fit_idx),
        "validation_images": int(n_val),
        "validation_scores": [round(float(s), 4) for s in val_scores],
        "bank_size": len(scorer.bank) if isinstance(scorer, PatchCore) else None,
        "feature_dims": dims_out,
        "network": network if backbone is None else Path(backbone).name,
        "preprocessing": preprocess.describe(),
        "feature_seconds": round(feature_seconds, 3),
        "fit_seconds": round(time.perf_counter() - started - feature_seconds, 3),
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return model
