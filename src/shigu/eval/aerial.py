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


def _coco_inputs(
    truth: Mapping[int, Sequence[AerialObject]],
    sizes: Mapping[int, tuple[int, int]],
    found: Mapping[int, Detections],
    labels: Sequence[str],
    category_map: Mapping[str, str],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """COCO ground truth and results with categories renamed by ``category_map``."""
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
    return gt, results


def _stats(evaluator: Any) -> dict[str, float]:
    stats = dict(zip(METRIC_NAMES, (max(float(v), 0.0) for v in evaluator.stats), strict=True))
    recall = evaluator.eval["recall"][0, :, 0, -1]  # IoU 0.5, every category, all areas, 100
    recall = recall[recall > -1]
    stats["recall50"] = float(recall.mean()) if len(recall) else 0.0
    return stats


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
    gt, results = _coco_inputs(truth, sizes, found, labels, category_map)
    if not results:
        return {**dict.fromkeys(METRIC_NAMES, 0.0), "recall50": 0.0}
    return _stats(cocoeval_run(gt, results, "bbox"))


@dataclass
class AerialReport:
    """Overall metrics, AP per evaluated category, and per image: objects, detections,
    AP50 and recall at IoU 0.5."""

    overall: dict[str, float]
    per_category: dict[str, float]
    per_image: list[dict[str, Any]]


def aerial_report(
    truth: Mapping[str, Sequence[AerialObject]],
    found: Mapping[str, Detections],
    labels: Sequence[str],
    category_map: Mapping[str, str],
) -> AerialReport:
    """:func:`aerial_evaluate` by image name, with the per-category and per-image break-down
    (images without detections count as all missed)."""
    names = sorted(truth)
    ids = {name: i + 1 for i, name in enumerate(names)}
    by_id = {ids[n]: truth[n] for n in names}
    sizes = dict.fromkeys(by_id, (0, 0))
    dets = {ids[n]: found.get(n, Detections.empty()) for n in names}
    gt, results = _coco_inputs(by_id, sizes, dets, labels, category_map)
    cats = [c["name"] for c in gt["categories"]]
    if not results:
        empty = {**dict.fromkeys(METRIC_NAMES, 0.0), "recall50": 0.0}
        rows = [{"image": n, "objects": _count(gt, ids[n]), "detections": 0, "AP50": 0.0,
                 "recall50": 0.0} for n in names]  # fmt: skip
        return AerialReport(empty, dict.fromkeys(cats, 0.0), rows)
    evaluator = cocoeval_run(gt, results, "bbox")
    overall = _stats(evaluator)
    per_category = {}
    precision = evaluator.eval["precision"][:, :, :, 0, -1]  # IoU, recall, category
    for k, name in enumerate(cats):
        p = precision[:, :, k]
        per_category[name] = float(p[p > -1].mean()) if (p > -1).any() else 0.0
    rows = []
    for n in names:
        image_id = ids[n]
        mine = [r for r in results if r["image_id"] == image_id]
        row: dict[str, Any] = {"image": n, "objects": _count(gt, image_id),
                               "detections": len(mine), "AP50": 0.0, "recall50": 0.0}  # fmt: skip
        if mine and row["objects"]:
            mine_gt = [a for a in gt["annotations"] if a["image_id"] == image_id]
            one = {**gt, "images": [im for im in gt["images"] if im["id"] == image_id],
                   "annotations": mine_gt}  # fmt: skip
            stats = _stats(cocoeval_run(one, mine, "bbox", quiet=True))
            row["AP50"], row["recall50"] = stats["AP50"], stats["recall50"]
        rows.append(row)
    return AerialReport(overall, per_category, rows)


def _count(gt: dict[str, Any], image_id: int) -> int:
    return sum(1 for a in gt["annotations"] if a["image_id"] == image_id and not a["iscrowd"])


GT_FORMATS = ("auto", "dota", "visdrone", "coco")


def _sniff(path: Path) -> str:
    """dota or visdrone, from the first data line of a label file."""
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.strip()
        if not parts or ":" in parts.split()[0]:
            continue
        return "visdrone" if "," in parts else "dota"
    return "dota"


def read_ground_truth(path: Path, fmt: str = "auto") -> dict[str, list[AerialObject]]:
    """Ground truth per image (keyed by file stem): a DOTA/VisDrone label file, a folder
    of them, or a COCO instances JSON (``fmt`` auto tells them apart)."""
    if fmt not in GT_FORMATS:
        raise InputError(f"unknown ground-truth format {fmt!r}", f"use one of {GT_FORMATS}")
    if not path.exists():
        raise InputError(f"--gt {path} does not exist")
    if path.is_file() and (fmt == "coco" or (fmt == "auto" and path.suffix == ".json")):
        return _read_coco_truth(path)
    files = sorted(path.glob("*.txt")) if path.is_dir() else [path]
    if not files:
        raise InputError(f"--gt {path} holds no .txt label files")
    out: dict[str, list[AerialObject]] = {}
    for f in files:
        kind = _sniff(f) if fmt == "auto" else fmt
        out[f.stem] = read_visdrone(f) if kind == "visdrone" else read_dota(f)
    return out


def _read_coco_truth(path: Path) -> dict[str, list[AerialObject]]:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        names = {c["id"]: c["name"] for c in data["categories"]}
        stems = {im["id"]: Path(im["file_name"]).stem for im in data["images"]}
        out: dict[str, list[AerialObject]] = {s: [] for s in stems.values()}
        for a in data["annotations"]:
            x, y, w, h = (float(v) for v in a["bbox"])
            out[stems[a["image_id"]]].append(AerialObject(
                (x, y, x + w, y + h), names[a["category_id"]], bool(a.get("iscrowd", 0))
            ))  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"--gt {path} is not a COCO instances file ({exc})") from None
    return out


def read_predictions(path: Path) -> tuple[dict[str, Detections], tuple[str, ...]]:
    """Detections per image stem and their label names, from the JSONL `shigu detect`
    writes for images (each line's ``file``)."""
    import json

    names: dict[str, int] = {}
    rows: dict[str, list[tuple[list[float], float, int]]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read --pred {path}: {exc.strerror or exc}") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            stem = Path(record["file"]).stem
            found = rows.setdefault(stem, [])
            for d in record["detections"]:
                name = str(d.get("class_name", d.get("class_id", 0)))
                cls = names.setdefault(name, len(names))
                found.append(([float(v) for v in d["xyxy"]], float(d.get("confidence", 1)), cls))
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(
                f"{path}:{n} is not a `shigu detect` image record ({exc})",
                "make it with: shigu detect IMAGES/ --jsonl PRED.jsonl",
            ) from None
    out = {}
    for stem, found in rows.items():
        if found:
            boxes = np.array([f[0] for f in found], np.float32)
            scores = np.array([f[1] for f in found], np.float32)
            out[stem] = Detections(boxes, scores, np.array([f[2] for f in found], np.int32))
        else:
            out[stem] = Detections.empty()
    return out, tuple(names)


def parse_category_map(text: str | None, agnostic: bool, predicted: Sequence[str],
                       truth: Sequence[str]) -> dict[str, str]:  # fmt: skip
    """``--map a=b,c=b`` (both sides' names onto evaluated ones; names the map does not
    mention keep their own name), ``--agnostic`` (everything is one class), or by default
    the names the detector and the ground truth share."""
    if agnostic:
        return dict.fromkeys((*predicted, *truth), "object")
    mapping: dict[str, str] = {}
    if text:
        for item in text.split(","):
            if "=" not in item:
                raise InputError(f"--map item {item!r} is not NAME=CATEGORY",
                                 "e.g. --map car=vehicle,small-vehicle=vehicle")  # fmt: skip
            key, value = (s.strip() for s in item.split("=", 1))
            mapping[key] = value
    targets = set(mapping.values())
    for name in (*predicted, *truth):
        if name not in mapping and (name in targets or (name in predicted and name in truth)):
            mapping[name] = name
    used_pred = {mapping[n] for n in predicted if n in mapping}
    used_truth = {mapping[n] for n in truth if n in mapping}
    if not used_pred & used_truth:
        raise InputError(
            "the detections and the ground truth share no category "
            f"(detected: {', '.join(sorted(predicted)[:6]) or 'none'}; "
            f"ground truth: {', '.join(sorted(truth)[:6])})",
            "map them with --map car=small-vehicle,... or score any box with --agnostic",
        )
    return mapping
