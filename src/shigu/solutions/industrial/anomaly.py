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
from shigu.solutions.industrial.features import PatchEmbedder, Preprocess
from shigu.solutions.industrial.padim import Padim
from shigu.solutions.industrial.patchcore import PatchCore

log = logging.getLogger(__name__)
METHODS = ("patchcore", "padim")
DEFAULT_LAYERS = ("s8", "s16")
Scorer = PatchCore | Padim


def default_backbone(size: tuple[int, int]) -> Path:
    """The ImageNet EfficientNet-Lite0 feature extractor as ONNX, exported once and cached."""
    path = shigu_home() / "backbones" / f"efficientnet_lite0_s8_s16_{size[0]}x{size[1]}.onnx"
    if not path.is_file():
        from shigu.solutions.industrial import efficientnet_lite

        log.info("exporting EfficientNet-Lite0 to %s", path)
        efficientnet_lite.export_onnx(path, size=size, layers=DEFAULT_LAYERS)
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

    def maps(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Anomaly maps at the model's input size: (N, H, W) float32."""
        return self.maps_from_embeddings(self.embedder(images))

    def maps_from_embeddings(self, embeddings: np.ndarray) -> np.ndarray:
        patch = self.scorer.patch_scores(embeddings)
        h, w = self.size
        out = np.empty((len(patch), h, w), dtype=np.float32)
        for i, p in enumerate(patch):
            up = cv2.resize(p, (w, h), interpolation=cv2.INTER_LINEAR)
            out[i] = cv2.GaussianBlur(up, (0, 0), self.sigma) if self.sigma > 0 else up
        return out

    def predict(self, images: Sequence[np.ndarray], min_area: int = 16) -> list[Prediction]:
        """Score, verdict, image-sized map, mask and regions for each image."""
        results = []
        for image, amap in zip(images, self.maps(images), strict=True):
            score = float(amap.max())
            full = (
                amap
                if amap.shape == image.shape[:2]
                else cv2.resize(
                    amap, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR
                )
            )
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
) -> AnomalyModel:
    """Fit on good images: embed, split off validation images, build the scorer, calibrate."""
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}", f"use one of: {', '.join(METHODS)}")
    if len(images) < 2:
        raise InputError(
            f"need at least 2 good images to train, got {len(images)}",
            "add more good images (dozens to hundreds are typical)",
        )
    if not 0.0 <= val_fraction < 1.0:
        raise InputError(f"--val-fraction must be in [0, 1), got {val_fraction}")
    started = time.perf_counter()
    if backbone is None:
        model_path = default_backbone(size)
        preprocess = preprocess or Preprocess(size)
        layers = layers or DEFAULT_LAYERS
    else:
        model_path = Path(backbone)
        preprocess = preprocess or Preprocess(
            size, (123.675, 116.28, 103.53), (58.395, 57.12, 57.375)
        )
    embedder = PatchEmbedder(
        model_path, preprocess, layers or (), device=device, layer_dims=layer_dims
    )
    embeddings = []
    for chunk in _batched(images, batch):
        embeddings.append(embedder(chunk))
        if progress:
            progress(len(chunk))
    emb = np.concatenate(embeddings)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(emb))
    n_val = round(len(emb) * val_fraction)
    n_val = min(n_val, len(emb) - 1)
    val_idx, fit_idx = order[:n_val], np.sort(order[n_val:])
    feature_seconds = time.perf_counter() - started
    scorer: Scorer
    if method == "patchcore":
        scorer = PatchCore.fit(emb[fit_idx], coreset_ratio, bank_min, bank_max, seed)
    else:
        scorer = Padim.fit(emb[fit_idx], seed=seed)
    model = AnomalyModel(embedder, scorer, threshold=np.inf)
    if n_val:
        val_scores = model.maps_from_embeddings(emb[val_idx]).reshape(n_val, -1).max(axis=1)
    else:  # no hold-out: leave-in scores are optimistic, so widen the margin
        val_scores = model.maps_from_embeddings(emb).reshape(len(emb), -1).max(axis=1) * 1.5
    model.threshold = calibrate_threshold(val_scores)
    model.meta = {
        "train_images": len(fit_idx),
        "validation_images": int(n_val),
        "validation_scores": [round(float(s), 4) for s in val_scores],
        "bank_size": len(scorer.bank) if isinstance(scorer, PatchCore) else None,
        "feature_dims": int(emb.shape[-1]),
        "feature_seconds": round(feature_seconds, 3),
        "fit_seconds": round(time.perf_counter() - started - feature_seconds, 3),
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return model
