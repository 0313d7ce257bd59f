"""Aerial ground truth (DOTA ``labelTxt``, VisDrone-DET txt) scored by pycocotools.

Oriented DOTA quadrilaterals become their axis-aligned bounding rectangles (DOTA's own
horizontal-box task, ``dots4ToRec4`` in its devkit); objects marked difficult, VisDrone's
ignored regions (category 0) and rows with score 0 are ``iscrowd`` (neither rewarded nor
punished), as those benchmarks do. AP by object size (COCO's small < 32², medium < 96²,
large) is in pycocotools' summary; recall at IoU 0.5 is read from its ``eval["recall"]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shigu.core.detections import Detections
from shigu.core.errors import InputError
from shigu.eval.coco import METRIC_NAMES, cocoeval_run

# VisDrone2019-DET categories (0: ignored regions, 11: others)
VISDRONE_CLASSES = ("ignored", "pedestrian", "people", "bicycle", "car", "van", "truck",
                    "tricycle", "awning-tricycle", "bus", "motor", "others")  # fmt: skip


@dataclass(frozen=True)
class AerialObject:
    """One ground-truth object: axis-aligned box (x1, y1, x2, y2), its category, and whether
    the benchmark ignores it (difficult, ignored region)."""

    box: tuple[float, float, float, float]
    category: str
    ignore: bool = False


def read_dota(path: Path) -> list[AerialObject]:
    """A DOTA v1 ``labelTxt`` file: optional ``imagesource:``/``gsd:`` header lines, then
    ``x1 y1 x2 y2 x3 y3 x4 y4 category difficult`` per object."""
    objects = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if not parts or ":" in parts[0]:
            continue  # header lines (imagesource:GoogleEarth, gsd:0.26)
        if len(parts) < 9:
            raise InputError(f"{path}:{n}: a DOTA object needs 8 coordinates and a category")
        try:
            pts = np.asarray([float(v) for v in parts[:8]]).reshape(4, 2)
        except ValueError:
            raise InputError(f"{path}:{n}: coordinates must be numbers: {line!r}") from None
        difficult = len(parts) > 9 and parts[9] == "1"
        x1, y1 = pts.min(0)
        x2, y2 = pts.max(0)
        objects.append(AerialObject((x1, y1, x2, y2), parts[8], difficult))
    return objects


def read_visdrone(path: Path) -> list[AerialObject]:
    """A VisDrone-DET annotation file: ``left,top,width,height,score,category,truncation,
    occlusion`` per line; category 0 and score 0 are ignored, as VisDrone's toolkit does."""
    objects = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = [f for f in line.strip().split(",") if f != ""]
        if not fields:
            continue
        try:
            x, y, w, h, score, cat = (int(float(v)) for v in fields[:6])
        except ValueError:
            raise InputError(f"{path}:{n}: expected 8 comma-separated numbers: {line!r}") from None
        if not 0 <= cat < len(VISDRONE_CLASSES):
            raise InputError(f"{path}:{n}: unknown VisDrone category {cat}")
        ignore = cat == 0 or score == 0 or cat == 11
        objects.append(AerialObject((x, y, x + w, y + h), VISDRONE_CLASSES[cat], ignore))
    return objects


def aerial_evaluate(
    truth: Mapping[int, Sequence[AerialObject]],
    sizes: Mapping[int, tuple[int, int]],
    found: Mapping[int, Detections],
    labels: Sequence[str],
    category_map: Mapping[str, str],
) -> dict[str, float]:
    """COCO AP/AR (and ``recall50``: recall at IoU 0.5, up to 100 detections) of ``found``
    against ``truth``, per image id. ``category_map`` maps detector labels and ground-truth
    categories to the evaluated categories (e.g. car, truck, bus, small-vehicle,
    large-vehicle -> vehicle); what it does not name is left out (ground truth of unmapped
    categories is ignored, not missed)."""
    cats = sorted(set(category_map.values()))
    cat_id = {c: i + 1 for i, c in enumerate(cats)}
    images = [{"id": i, "width": sizes[i][0], "height": sizes[i][1]} for i in sorted(truth)]
    annotations: list[dict[str, Any]] = []
    for image_id, objects in truth.items():
        for obj in objects:
            x1, y1, x2, y2 = obj.box
            mapped = category_map.get(obj.category)
            if mapped is None:
                continue
            annotations.append({
                "id": len(annotations) + 1, "image_id": image_id,
                "category_id": cat_id[mapped], "bbox": [x1, y1, x2 - x1, y2 - y1],
                "area": (x2 - x1) * (y2 - y1), "iscrowd": int(obj.ignore),
            })  # fmt: skip
    results = []
    for image_id, dets in found.items():
        for box, score, cls in zip(dets.xyxy.tolist(), dets.confidence.tolist(),
                                   dets.class_id.tolist(), strict=True):  # fmt: skip
            mapped = category_map.get(labels[cls] if 0 <= cls < len(labels) else str(cls))
            if mapped is None:
                continue
            x1, y1, x2, y2 = box
            results.append({"image_id": image_id, "category_id": cat_id[mapped],
                            "bbox": [x1, y1, x2 - x1, y2 - y1], "score": score})  # fmt: skip
    gt = {"images": images, "annotations": annotations,
          "categories": [{"id": i, "name": c} for c, i in cat_id.items()]}  # fmt: skip
    if not results:
        return {**dict.fromkeys(METRIC_NAMES, 0.0), "recall50": 0.0}
    evaluator = cocoeval_run(gt, results, "bbox")
    stats = dict(zip(METRIC_NAMES, (max(float(v), 0.0) for v in evaluator.stats), strict=True))
    recall = evaluator.eval["recall"][0, :, 0, -1]  # IoU 0.5, every category, all areas, 100
    recall = recall[recall > -1]
    stats["recall50"] = float(recall.mean()) if len(recall) else 0.0
    return stats
