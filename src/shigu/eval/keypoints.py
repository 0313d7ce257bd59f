"""Keypoint AP by OKS with pycocotools, and COCO keypoint result records from poses.

Scoring is ``COCOeval(..., "keypoints")`` with the COCO sigmas; nothing is computed by hand.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from shigu.core.errors import InputError

KEYPOINT_METRICS = ("AP", "AP50", "AP75", "AP_medium", "AP_large",
                    "AR", "AR50", "AR75", "AR_medium", "AR_large")  # fmt: skip


def image_id_for(path: str | Path, fallback: int, by_name: dict[str, int] | None = None) -> int:
    """A COCO image id for an image file: from the ground truth's ``file_name`` when given,
    else the digits of a COCO-style name (``000000000785.jpg`` -> 785), else ``fallback``."""
    name = Path(path).name
    if by_name is not None and name in by_name:
        return by_name[name]
    digits = re.fullmatch(r"0*(\d+)", Path(path).stem)
    return int(digits.group(1)) if digits else fallback


def pose_records(image_id: int, poses: np.ndarray, scores: np.ndarray) -> list[dict[str, Any]]:
    """COCO keypoint results: ``keypoints`` = [x, y, score] x 17, ``score`` per person.

    ``poses``: (N, 17, 3) x, y, keypoint score; rows with NaN (no pose) are left out.
    """
    out = []
    for pose, score in zip(np.asarray(poses, np.float64), np.asarray(scores), strict=True):
        if not np.isfinite(pose).all():
            continue
        out.append(
            {
                "image_id": int(image_id),
                "category_id": 1,
                "keypoints": np.round(pose, 2).reshape(-1).tolist(),
                "score": round(float(score), 5),
            }
        )
    return out


def read_json(path: Path, what: str) -> Any:
    import json

    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{what} not found: {path}", "check the path") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{what} {path} is not readable JSON ({exc})") from None


def keypoint_evaluate(
    gt: dict[str, Any], results: list[dict[str, Any]], quiet: bool = True
) -> dict[str, float]:
    """pycocotools OKS keypoint AP/AR (10 numbers, 0-1) of ``results`` against ``gt``."""
    from shigu.eval.coco import cocoeval_stats

    if not isinstance(gt, dict) or "annotations" not in gt or "images" not in gt:
        raise InputError("ground truth is not a COCO keypoint file (no images/annotations)")
    if not any("keypoints" in a for a in gt["annotations"]):
        raise InputError("ground truth has no keypoints", "give a person_keypoints_*.json file")
    known = {im["id"] for im in gt["images"]}
    results = [r for r in results if r.get("image_id") in known]
    if not results:
        return dict.fromkeys(KEYPOINT_METRICS, 0.0)
    bad = [r for r in results if len(r.get("keypoints", [])) != 51]
    if bad:
        raise InputError(
            f"{len(bad)} result(s) do not have 17 x 3 keypoint values",
            "each result needs keypoints [x, y, score] x 17 (COCO-17 order)",
        )
    stats = cocoeval_stats(gt, results, "keypoints", quiet)
    return dict(zip(KEYPOINT_METRICS, stats, strict=True))
