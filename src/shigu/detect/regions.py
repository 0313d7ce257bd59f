"""Detection on parts of a frame: which crops to look at, and their boxes merged back.

A detector with a 416 px input sees a 1080p frame at a fifth of its size, so people far away
shrink to a few pixels and are missed. Frigate's answer, used by the motion gate: run the
detector on model-sized crops around what moved and what is tracked, at full resolution, and
fall back to the whole frame when the crops would cover most of it anyway (then one pass is
cheaper and sees everything). ``plan_crops`` chooses the crops; ``merge_crops`` maps each
crop's detections back to the frame and removes the duplicates where crops overlap;
``carried`` keeps the earlier detections that no crop looked at (nothing moved there, so
they stand, as every detection stands on a frame where nothing moved).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from shigu.core.detections import Detections
from shigu.detect.nms import box_iou, nms

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 in frame pixels, x1/y1 exclusive


def crop_for(
    box: Sequence[float], frame_size: tuple[int, int], model_size: tuple[int, int]
) -> Rect:
    """The crop that holds ``box``: the model's aspect ratio, at least the model's size (so the
    detector sees it at full resolution unless the box itself is larger than the model),
    centred on the box and moved inside the frame; never larger than the frame."""
    fw, fh = frame_size
    mw, mh = model_size
    x0, y0, x1, y1 = (float(v) for v in box)
    bw, bh = max(1.0, x1 - x0), max(1.0, y1 - y0)
    w = max(bw, bh * mw / mh, float(mw))
    h = w * mh / mw
    w, h = min(w, float(fw)), min(h, float(fh))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left = round(min(max(cx - w / 2, 0.0), fw - w))
    top = round(min(max(cy - h / 2, 0.0), fh - h))
    return left, top, min(fw, left + round(w)), min(fh, top + round(h))


def _area(r: Rect) -> int:
    return (r[2] - r[0]) * (r[3] - r[1])


def crops_can_pay(
    frame_size: tuple[int, int], model_size: tuple[int, int], full_frame_fraction: float
) -> bool:
    """Whether ``plan_crops`` can ever choose crops for this frame: not when one model-sized
    crop already covers ``full_frame_fraction`` of it (then the gate need not plan at all)."""
    fw, fh = frame_size
    return _area(crop_for((0, 0, 1, 1), frame_size, model_size)) < full_frame_fraction * fw * fh


def plan_crops(
    boxes: np.ndarray,
    frame_size: tuple[int, int],
    model_size: tuple[int, int],
    max_crops: int = 4,
    full_frame_fraction: float = 0.5,
    margin: float = 0.2,
) -> list[Rect] | None:
    """Crops that cover every box (N, 4 xyxy, frame pixels), or None for the whole frame.

    Each box grows by ``margin`` of its size (a moving part is often only part of the object)
    and gets a crop from ``crop_for``; two crops merge when one crop around both is no larger
    than the two apart. None when there is nothing to cover, when more than ``max_crops``
    remain, or when they cover ``full_frame_fraction`` of the frame or more.
    """
    if len(boxes) == 0:
        return None
    fw, fh = frame_size
    grown = np.asarray(boxes, np.float64).reshape(-1, 4).copy()
    pad = np.maximum(
        margin * (grown[:, 2:] - grown[:, :2]), 8.0
    )  # at least 8 px of context around each box
    grown[:, :2] -= pad
    grown[:, 2:] += pad
    grown[:, 0::2] = grown[:, 0::2].clip(0, fw)
    grown[:, 1::2] = grown[:, 1::2].clip(0, fh)
    # clusters as (union box, its crop); largest boxes first so small ones fall into them
    order = np.argsort(-(grown[:, 2] - grown[:, 0]) * (grown[:, 3] - grown[:, 1]), kind="stable")
    clusters: list[tuple[tuple[float, float, float, float], Rect]] = []
    for i in order:
        box = (grown[i, 0], grown[i, 1], grown[i, 2], grown[i, 3])
        clusters.append((box, crop_for(box, frame_size, model_size)))
        merged = True
        while merged and len(clusters) > 1:  # merge the newest cluster while it pays
            merged = False
            nb, nc = clusters[-1]
            for j, (ob, oc) in enumerate(clusters[:-1]):
                union = (min(nb[0], ob[0]), min(nb[1], ob[1]), max(nb[2], ob[2]), max(nb[3], ob[3]))
                crop = crop_for(union, frame_size, model_size)
                if _area(crop) <= _area(nc) + _area(oc):
                    del clusters[j]
                    clusters[-1] = (union, crop)
                    merged = True
                    break
    crops = [crop for _, crop in clusters]
    if len(crops) > max_crops or sum(map(_area, crops)) >= full_frame_fraction * fw * fh:
        return None
    return sorted(crops)


def shift(dets: Detections, dx: float, dy: float) -> Detections:
    """``dets`` moved by (dx, dy): from a crop's pixels to the frame's. Instance masks are
    crop-sized, so they are dropped (none of our detectors makes them)."""
    if len(dets) == 0 or (dx == 0 and dy == 0):
        return dets
    offset = np.asarray([dx, dy, dx, dy], np.float32)
    kps = None if dets.keypoints is None else dets.keypoints + np.asarray([dx, dy], np.float32)
    return Detections.trusted(
        dets.xyxy + offset,
        dets.confidence,
        dets.class_id,
        tracker_id=dets.tracker_id,
        keypoints=kps,
        data=dict(dets.data),
    )


def merge_crops(
    found: Sequence[Detections],
    crops: Sequence[Rect],
    iou: float = 0.45,
    class_agnostic: bool = False,
    max_det: int = 300,
) -> Detections:
    """One frame's detections from its crops' (each in crop pixels): shifted to the frame,
    concatenated, and the duplicates where crops overlap removed by NMS (per class unless
    ``class_agnostic``), at most ``max_det`` kept."""
    parts = [shift(d, c[0], c[1]) for d, c in zip(found, crops, strict=True)]
    if len(parts) == 1:
        return parts[0]
    merged = Detections.merge(parts)
    if len(merged) < 2:
        return merged
    cut = np.concatenate([_cut(p, c, crops) for p, c in zip(parts, crops, strict=True)])
    if cut.any() and not cut.all():  # an object cut by a crop's edge and seen whole in
        # another crop: the whole one stays, whatever the scores (before NMS, which would
        # keep the higher score)
        xyxy, whole = merged.xyxy, ~cut
        lt = np.maximum(xyxy[cut, None, :2], xyxy[None, whole, :2])
        rb = np.minimum(xyxy[cut, None, 2:], xyxy[None, whole, 2:])
        inter = np.clip(rb - lt, 0, None).prod(-1)
        own = np.maximum((xyxy[cut, 2:] - xyxy[cut, :2]).prod(-1), 1e-9)
        inside = inter / own[:, None]  # how much of each cut box lies in each whole box
        if not class_agnostic:
            inside[merged.class_id[cut][:, None] != merged.class_id[None, whole]] = 0.0
        keep_rows = np.ones(len(merged), bool)
        keep_rows[np.flatnonzero(cut)[(inside > 0.6).any(1)]] = False
        merged = merged[keep_rows]
    keep = nms(
        merged.xyxy, merged.confidence, iou, None if class_agnostic else merged.class_id, max_det
    )
    return merged[np.sort(keep)]


def _cut(dets: Detections, crop: Rect, crops: Sequence[Rect]) -> np.ndarray:
    """(N,) bool: boxes (frame pixels) that touch an edge of ``crop`` inside the frame's
    crops area, i.e. an object the crop may have cut off."""
    if len(dets) == 0:
        return np.zeros(0, bool)
    x0, y0, x1, y1 = crop
    fx0, fy0 = min(c[0] for c in crops), min(c[1] for c in crops)
    fx1, fy1 = max(c[2] for c in crops), max(c[3] for c in crops)
    b, tol = dets.xyxy, 2.0
    cut = np.zeros(len(dets), bool)
    if x0 > fx0:
        cut |= b[:, 0] <= x0 + tol
    if y0 > fy0:
        cut |= b[:, 1] <= y0 + tol
    if x1 < fx1:
        cut |= b[:, 2] >= x1 - tol
    if y1 < fy1:
        cut |= b[:, 3] >= y1 - tol
    return cut


def carried(last: Detections, found: Detections, crops: Sequence[Rect]) -> Detections:
    """The rows of ``last`` that still stand on a frame detected on ``crops`` only: those
    whose centre lies in no crop and that overlap nothing ``found`` there (IoU < 0.3; an
    object half inside a crop is seen there again)."""
    keep = outside(last, crops)
    if keep.any() and len(found):
        keep &= box_iou(last.xyxy, found.xyxy).max(1) < 0.3
    return last[keep]


def outside(dets: Detections, crops: Sequence[Rect]) -> np.ndarray:
    """(N,) bool: the boxes whose centre lies in none of ``crops``."""
    if len(dets) == 0:
        return np.zeros(0, bool)
    cx = (dets.xyxy[:, 0] + dets.xyxy[:, 2]) / 2
    cy = (dets.xyxy[:, 1] + dets.xyxy[:, 3]) / 2
    seen = np.zeros(len(dets), bool)
    for x0, y0, x1, y1 in crops:
        seen |= (cx >= x0) & (cx < x1) & (cy >= y0) & (cy < y1)
    return ~seen
