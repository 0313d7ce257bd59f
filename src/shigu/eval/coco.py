"""Detection metrics with pycocotools (COCO AP/AR), on COCO files or MOTChallenge ground truth.

Nothing here computes AP by hand: ground truth and detections are turned into COCO
structures and scored by ``pycocotools.cocoeval.COCOeval``.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from shigu.core.detections import Detections

# MOT16/17/20 ground-truth classes: 1 pedestrian; these others are people or look-alikes a
# detector may fire on legitimately, so they are "ignore" regions rather than false positives.
MOT_PEDESTRIAN = 1
MOT_IGNORE_CLASSES = (2, 7, 8, 12)  # person on vehicle, static person, distractor, reflection

METRIC_NAMES = (
    "AP",
    "AP50",
    "AP75",
    "AP_small",
    "AP_medium",
    "AP_large",
    "AR1",
    "AR10",
    "AR100",
    "AR_small",
    "AR_medium",
    "AR_large",
)


def mot_gt_to_coco(
    gt_rows: np.ndarray, frames: Iterable[int], width: int, height: int, min_visibility: float = 0.0
) -> dict[str, Any]:
    """COCO ground truth (one image per frame, category 1 = person) from MOT16+ gt rows.

    Pedestrians with ``consider = 1`` and enough visibility are objects; everything else
    that is a person-like class, or a pedestrian marked not to consider, is ``iscrowd`` so
    matching it is neither rewarded nor punished.
    """
    frames = sorted(set(int(f) for f in frames))
    images = [
        {"id": f, "width": width, "height": height, "file_name": f"{f:06d}.jpg"} for f in frames
    ]
    wanted = set(frames)
    annotations: list[dict[str, Any]] = []
    for row in gt_rows:
        frame = int(row[0])
        if frame not in wanted:
            continue
        x, y, w, h = (float(v) for v in row[2:6])
        consider = int(row[6]) if len(row) > 6 else 1
        cls = int(row[7]) if len(row) > 7 else MOT_PEDESTRIAN
        vis = float(row[8]) if len(row) > 8 else 1.0
        if cls == MOT_PEDESTRIAN and consider == 1 and vis >= min_visibility:
            crowd = 0
        elif cls == MOT_PEDESTRIAN or cls in MOT_IGNORE_CLASSES:
            crowd = 1
        else:
            continue
        annotations.append(
            {
                "id": len(annotations) + 1,
                "image_id": frame,
                "category_id": 1,
                "bbox": [x - 1, y - 1, w, h],
                "area": w * h,
                "iscrowd": crowd,
            }
        )
    return {
        "images": images,
        "annotations": annotations,
        "categories": [{"id": 1, "name": "person"}],
    }


def detections_to_coco(
    per_image: Mapping[int, Detections], class_to_category: Mapping[int, int]
) -> list[dict[str, Any]]:
    """COCO result records; classes missing from ``class_to_category`` are dropped."""
    results = []
    for image_id, dets in per_image.items():
        for i in range(len(dets)):
            cat = class_to_category.get(int(dets.class_id[i]))
            if cat is None:
                continue
            x1, y1, x2, y2 = (float(v) for v in dets.xyxy[i])
            results.append(
                {
                    "image_id": int(image_id),
                    "category_id": cat,
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "score": float(dets.confidence[i]),
                }
            )
    return results


def cocoeval_stats(
    gt: dict[str, Any], results: Sequence[dict[str, Any]], iou_type: str, quiet: bool = True
) -> list[float]:
    """``COCOeval(gt, results, iou_type)`` evaluated, accumulated and summarised: its
    ``stats`` (bbox: 12 numbers, keypoints: 10), negatives (no data) as 0."""
    evaluator = cocoeval_run(gt, results, iou_type, quiet)
    return [float(max(v, 0.0)) for v in evaluator.stats]


def cocoeval_run(
    gt: dict[str, Any], results: Sequence[dict[str, Any]], iou_type: str, quiet: bool = True
) -> Any:
    """The ``COCOeval`` object after evaluate, accumulate and summarize (for figures beyond
    ``stats``, such as recall at IoU 0.5 from ``eval["recall"]``)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    sink = io.StringIO()
    with contextlib.redirect_stdout(sink) if quiet else contextlib.nullcontext():
        coco_gt = COCO()
        coco_gt.dataset = {k: list(v) if isinstance(v, list) else v for k, v in gt.items()}
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes([dict(r) for r in results])
        evaluator = COCOeval(coco_gt, coco_dt, iou_type)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator


def coco_evaluate(
    gt: dict[str, Any], results: Sequence[dict[str, Any]], quiet: bool = True
) -> dict[str, float]:
    """Run ``COCOeval`` (bbox) and return its 12 summary numbers by name (0-1 scale)."""
    if not results:
        return dict.fromkeys(METRIC_NAMES, 0.0)
    stats = cocoeval_stats(gt, results, "bbox", quiet)
    return dict(zip(METRIC_NAMES, stats, strict=True))
