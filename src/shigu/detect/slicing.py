"""Sliced inference for small objects in large images (SAHI's method, batched and indexed).

A detector with a 416 px input sees a 4000 px aerial image at a tenth of its size, so cars
become a few pixels and are lost. Slicing runs it on overlapping tiles at (or near) full
resolution, optionally on the whole image too for objects larger than a tile, and merges
the tiles' boxes. The grid is SAHI's (``get_slice_bboxes``: same parameters, same tiles), the
merge is SAHI's (NMS, NMM, greedy NMM; IoU or IoS), but candidate pairs come from a spatial
index (shapely's STRtree) instead of an all-pairs matrix, so 10,000 boxes merge in
milliseconds, and the tiles run through the model in batches (``shigu.detect.regions`` holds
the crop machinery the pipeline uses for both slices and motion regions).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from shigu.core.detections import Detections
from shigu.core.errors import InputError
from shigu.detect.base import Detector
from shigu.detect.regions import Rect, shift

MergeMethod = Literal["nms", "nmm", "greedy_nmm"]
MatchMetric = Literal["iou", "ios"]


class SliceConfig(BaseModel):
    """How to slice (``pipeline.detector.slice``; ``shigu detect --slice``). The defaults are
    SAHI's ``get_sliced_prediction`` defaults, so results compare one to one."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # no NaN or Infinity

    size: int | Literal["auto"] = Field(
        "auto",
        description="tile side in pixels, or auto: the model's input size (the scale it was "
        "trained at), no slicing when the image is at most 1.5 times that",
    )
    height: int | None = Field(None, ge=32, description="tile height when not square")
    overlap: float = Field(0.2, ge=0, lt=1, description="overlap of neighbouring tiles")
    full: bool = Field(True, description="also detect on the whole image (large objects)")
    merge: MergeMethod = Field("greedy_nmm", description="how overlapping boxes combine")
    metric: MatchMetric = Field("ios", description="overlap measure for merging")
    threshold: float = Field(0.5, gt=0, le=1, description="overlap at which boxes combine")
    class_agnostic: bool = Field(False, description="merge boxes of different classes too")

    @model_validator(mode="after")
    def _size_range(self) -> SliceConfig:
        if isinstance(self.size, int) and not 32 <= self.size <= 8192:
            raise ValueError(f"slice size must be within 32..8192 pixels, got {self.size}")
        return self


def slice_grid(
    width: int, height: int, slice_w: int, slice_h: int, overlap_w: float, overlap_h: float
) -> list[Rect]:
    """The tiles (x0, y0, x1, y1) covering a ``width`` x ``height`` image, row by row; the
    last tile of a row or column is moved back inside the image. SAHI's grid exactly."""
    if width < 1 or height < 1 or slice_w < 1 or slice_h < 1:
        raise InputError(f"cannot slice a {width}x{height} image into {slice_w}x{slice_h} tiles")
    x_overlap, y_overlap = int(overlap_w * slice_w), int(overlap_h * slice_h)
    tiles: list[Rect] = []
    y_min = y_max = 0
    while y_max < height:
        x_min = x_max = 0
        y_max = y_min + slice_h
        while x_max < width:
            x_max = x_min + slice_w
            if y_max > height or x_max > width:
                x1, y1 = min(width, x_max), min(height, y_max)
                tiles.append((max(0, x1 - slice_w), max(0, y1 - slice_h), x1, y1))
            else:
                tiles.append((x_min, y_min, x_max, y_max))
            x_min = x_max - x_overlap
        y_min = y_max - y_overlap
    return tiles


def plan_slices(
    width: int, height: int, cfg: SliceConfig, model_size: tuple[int, int]
) -> list[Rect]:
    """The crops to detect on for one image: the tiles, and the whole image when ``full``
    (or alone, when ``auto`` finds the image small enough for one pass)."""
    if cfg.size == "auto":
        mw, mh = model_size
        if width <= 1.5 * mw and height <= 1.5 * mh:
            return [(0, 0, width, height)]
        sw, sh = mw, mh
    else:
        sw, sh = cfg.size, cfg.height or cfg.size
    tiles = slice_grid(width, height, sw, sh, cfg.overlap, cfg.overlap)
    whole = (0, 0, width, height)
    if cfg.full and whole not in tiles:
        tiles.append(whole)
    return tiles


# ---------------------------------------------------------------------- merging
def _pairs(xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i < j) of boxes that overlap, from an STRtree (no all-pairs matrix)."""
    import shapely

    geoms = shapely.box(xyxy[:, 0], xyxy[:, 1], xyxy[:, 2], xyxy[:, 3])
    tree = shapely.STRtree(geoms)
    # no predicate: the tree's envelopes are the boxes themselves, so envelope overlap is box
    # overlap (GEOS's exact "intersects" test cost 10x more and adds nothing for boxes)
    i, j = tree.query(geoms)
    keep = i < j
    return i[keep], j[keep]


def _overlap(a: np.ndarray, b: np.ndarray, metric: MatchMetric) -> np.ndarray:
    """IoU or IoS (intersection over the smaller area) of box rows a[k] and b[k]."""
    w = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    h = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None)
    inter = w * h
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    denom = np.minimum(area_a, area_b) if metric == "ios" else area_a + area_b - inter
    out: np.ndarray = np.where(denom > 0, inter / np.where(denom > 0, denom, 1.0), 0.0)
    return out


def merge_boxes(
    dets: Detections,
    method: MergeMethod = "greedy_nmm",
    metric: MatchMetric = "ios",
    threshold: float = 0.5,
    class_agnostic: bool = False,
) -> Detections:
    """Combine overlapping boxes the way SAHI does, on a spatial index.

    Boxes are taken by score (ties by x1, y1, x2, y2). ``nms`` drops every later box whose
    overlap with a kept one reaches ``threshold``; ``greedy_nmm`` merges them into it instead
    (union box, highest score and its class), each checked again against the box as it grows;
    ``nmm`` also merges what overlaps the merged boxes (transitively). Per class unless
    ``class_agnostic``. Rows keep their other fields (track id, keypoints, data) from the
    kept box.
    """
    n = len(dets)
    if n < 2:
        return dets
    xyxy = dets.xyxy.astype(np.float64)
    scores = dets.confidence.astype(np.float64)
    order = np.lexsort((xyxy[:, 3], xyxy[:, 2], xyxy[:, 1], xyxy[:, 0], -scores))
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    i, j = _pairs(xyxy)
    if not class_agnostic:
        same = dets.class_id[i] == dets.class_id[j]
        i, j = i[same], j[same]
    hit = _overlap(xyxy[i], xyxy[j], metric) >= threshold
    i, j = i[hit], j[hit]
    # direct each pair from the box that may absorb to the other: greedy NMM and NMS go by
    # rank; NMM, as SAHI, lets equal scores go to the larger coordinates (x1, y1, x2, y2)
    first = rank[i] < rank[j]
    if method == "nmm":
        tie = scores[i] == scores[j]
        if tie.any():
            a, b = xyxy[i[tie]], xyxy[j[tie]]
            j_lower = np.zeros(int(tie.sum()), bool)  # coords(j) < coords(i), lexicographic
            undecided = np.ones_like(j_lower)
            for col in range(4):
                j_lower |= undecided & (b[:, col] < a[:, col])
                undecided &= b[:, col] == a[:, col]
            first[tie] = j_lower | undecided
    src, dst = np.where(first, i, j), np.where(first, j, i)
    if method == "nmm":
        groups = _nmm_groups(src, dst, rank, order, n)
        keep = [g for g, _ in groups]
        out = dets[np.asarray(keep, np.int64)]
        new_xyxy, new_conf, new_cls = _grow_groups(
            groups, xyxy, scores, dets.class_id, out, metric, threshold
        )
    else:
        keeper, owner = _greedy_select(src, dst, rank, n)
        keep_idx = np.flatnonzero(keeper)
        keep_idx = keep_idx[np.argsort(rank[keep_idx], kind="stable")]
        out = dets[keep_idx]
        if method == "nms":
            return out
        grown, grown_score, grown_cls = _grow_greedy(
            owner, rank, xyxy, scores, dets.class_id, metric, threshold
        )
        new_xyxy = grown[keep_idx].astype(np.float32)
        new_conf = grown_score[keep_idx].astype(np.float32)
        new_cls = grown_cls[keep_idx].astype(np.int32)
    return Detections.trusted(
        new_xyxy,
        new_conf,
        new_cls,
        tracker_id=out.tracker_id,
        keypoints=out.keypoints,
        data=out.data,
    )


def _greedy_select(
    src: np.ndarray, dst: np.ndarray, rank: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy NMS's keepers and, for every other box, the keeper that takes it (-1: none),
    in rounds over the directed match pairs (src ranked above dst) instead of a loop over
    the boxes: a box is taken once a keeper above it matches it, and becomes a keeper once
    everything above it that matches it is taken. This is the sequential greedy result
    exactly (the first keeper in score order that matches a box takes it); rounds are as
    many as the longest chain of overlaps, a few for real detections."""
    state = np.zeros(n, np.int8)  # 0 undecided, 1 keeper, 2 taken
    for _ in range(n + 1):
        undecided = state == 0
        if not undecided.any():
            break
        taken = (state[src] == 1) & undecided[dst]
        state[dst[taken]] = 2
        blocking = (state[src] != 2) & (state[dst] == 0)
        blocked = np.zeros(n, bool)
        blocked[dst[blocking]] = True
        state[(state == 0) & ~blocked] = 1
    owner = np.full(n, -1, np.int64)
    by_keeper = state[src] == 1
    s, d = src[by_keeper], dst[by_keeper]
    if len(s):
        first = np.lexsort((rank[s], d))  # per taken box, its best-ranked keeper first
        s, d = s[first], d[first]
        lead = np.r_[True, d[1:] != d[:-1]]
        owner[d[lead]] = s[lead]
    return state == 1, owner


def _grow_greedy(
    owner: np.ndarray,
    rank: np.ndarray,
    xyxy: np.ndarray,
    scores: np.ndarray,
    class_id: np.ndarray,
    metric: MatchMetric,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each keeper's box grown by its taken boxes in score order, as SAHI merges them: each
    checked against the box as it has grown so far (no match: dropped), the union box, the
    higher score and its class. Vectorised across keepers, one step per member position."""
    box, score, cls = xyxy.copy(), scores.copy(), class_id.astype(np.int64)
    members = np.flatnonzero(owner >= 0)
    if not len(members):
        return box, score, cls
    own = owner[members]
    order = np.lexsort((rank[members], rank[own]))
    own, members = own[order], members[order]
    starts = np.r_[True, own[1:] != own[:-1]]
    group_start = np.maximum.accumulate(np.where(starts, np.arange(len(own)), 0))
    position = np.arange(len(own)) - group_start
    for p in range(int(position.max()) + 1):
        at = position == p
        o, m = own[at], members[at]
        a, b = box[o], xyxy[m]
        w = np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0])
        h = np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1])
        inter = w * h
        area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
        area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
        denom = np.minimum(area_a, area_b) if metric == "ios" else area_a + area_b - inter
        with np.errstate(divide="ignore", invalid="ignore"):
            ok = (
                (w > 0)
                & (h > 0)
                & (denom > 0)
                & (inter / np.where(denom > 0, denom, 1) >= threshold)
            )
        o, m = o[ok], m[ok]
        box[o, 0] = np.minimum(box[o, 0], xyxy[m, 0])
        box[o, 1] = np.minimum(box[o, 1], xyxy[m, 1])
        box[o, 2] = np.maximum(box[o, 2], xyxy[m, 2])
        box[o, 3] = np.maximum(box[o, 3], xyxy[m, 3])
        higher = scores[m] >= score[o]  # SAHI: the class of the higher score (ties: the new)
        cls[o[higher]] = class_id[m[higher]]
        score[o[higher]] = scores[m[higher]]
    return box, score, cls


def _nmm_groups(
    src: np.ndarray, dst: np.ndarray, rank: np.ndarray, order: np.ndarray, n: int
) -> list[tuple[int, list[int]]]:
    """SAHI's transitive NMM: boxes in score order; one not yet owned becomes a keeper, and
    every box owned (or keeping) takes its unowned matches (in index order) for its keeper."""
    pair_order = np.lexsort((dst, src))
    src, dst = src[pair_order], dst[pair_order]
    neighbours: dict[int, list[int]] = {}
    if len(src):
        starts = np.flatnonzero(np.r_[True, src[1:] != src[:-1]]).tolist()
        ends = [*starts[1:], len(src)]
        dst_list, src_list = dst.tolist(), src.tolist()
        for s0, e in zip(starts, ends, strict=True):
            neighbours[src_list[s0]] = dst_list[s0:e]
    owner = [-1] * n
    members: dict[int, list[int]] = {}
    groups: list[tuple[int, list[int]]] = []
    for idx in order.tolist():
        if owner[idx] < 0:
            owner[idx] = idx
            members[idx] = []
            groups.append((idx, members[idx]))
        keeper = owner[idx]
        for m in neighbours.get(idx, ()):
            if owner[m] < 0:
                owner[m] = keeper
                members[keeper].append(m)
    return groups


def _grow_groups(
    groups: list[tuple[int, list[int]]],
    xyxy: np.ndarray,
    scores: np.ndarray,
    class_id: np.ndarray,
    out: Detections,
    metric: MatchMetric,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``_grow_greedy`` for NMM's groups, box by box."""
    boxes = xyxy.tolist()
    score_list = scores.tolist()
    cls_list = class_id.tolist()
    ios = metric == "ios"
    new_xyxy = out.xyxy.copy()
    new_conf = out.confidence.copy()
    new_cls = out.class_id.copy()
    for row, (k, merged) in enumerate(groups):
        if not merged:
            continue
        x0, y0, x1, y1 = boxes[k]
        score, cls = score_list[k], cls_list[k]
        for m in merged:
            # SAHI checks each match against the box as it has grown: no match, dropped
            bx0, by0, bx1, by1 = boxes[m]
            w = min(x1, bx1) - max(x0, bx0)
            h = min(y1, by1) - max(y0, by0)
            if w <= 0 or h <= 0:
                continue
            inter = w * h
            area_a, area_b = (x1 - x0) * (y1 - y0), (bx1 - bx0) * (by1 - by0)
            denom = min(area_a, area_b) if ios else area_a + area_b - inter
            if denom <= 0 or inter / denom < threshold:
                continue
            x0, y0, x1, y1 = min(x0, bx0), min(y0, by0), max(x1, bx1), max(y1, by1)
            if score_list[m] >= score:
                cls = cls_list[m]
                score = score_list[m]
        new_xyxy[row] = [x0, y0, x1, y1]
        new_conf[row] = score
        new_cls[row] = cls
    return new_xyxy, new_conf, new_cls


def merge_slices(
    found: Sequence[Detections], crops: Sequence[Rect], cfg: SliceConfig
) -> Detections:
    """One image's detections from its tiles' (each in tile pixels): shifted to the image,
    then merged by ``cfg``."""
    parts = [shift(d, c[0], c[1]) for d, c in zip(found, crops, strict=True)]
    merged = Detections.merge(parts)
    return merge_boxes(merged, cfg.merge, cfg.metric, cfg.threshold, cfg.class_agnostic)


def detect_tiles(
    detector: Detector,
    image: Any,
    tiles: Sequence[Rect],
    cfg: SliceConfig,
    chunk: int = 8,
    workers: int = 1,
) -> Detections:
    """Detect on ``tiles`` of ``image`` (an array, or a window reader such as
    :class:`shigu.sources.large_image.TiffWindows`) and merge. Tiles go through the model
    ``chunk`` at a time (one run each where the model takes batches), so memory stays
    bounded by the image and ``workers`` chunks of network inputs whatever the number of
    tiles; with ``workers`` > 1 chunks run in parallel threads (ONNX Runtime releases the
    GIL), which keeps every core busy when the model has a fixed batch of one and few
    intra-op threads."""

    lazy = not isinstance(image, np.ndarray)  # a window reader of a very large image
    full = (0, 0, int(image.shape[1]), int(image.shape[0]))

    def run(part: Sequence[Rect]) -> list[Detections]:
        w, h = detector.prep.size
        buf = detector.new_batch(len(part))
        canvas = np.empty((h, w, 3), np.uint8)
        metas, scales = [], []
        for k, rect in enumerate(part):
            x0, y0, x1, y1 = rect
            if lazy and tuple(rect) == full:
                # the whole-image pass on a lazily read image: its overview, at twice the
                # network's input (the letterbox shrinks it further anyway)
                pixels = image.overview(2 * max(w, h))
                scales.append(full[2] / pixels.shape[1])
            else:
                pixels = image[y0:y1, x0:x1]
                scales.append(1.0)
            metas.append(detector.preprocess(pixels, buf[k], canvas))
        found = detector.infer(buf, metas)
        for dets, scale in zip(found, scales, strict=True):
            if scale != 1.0 and len(dets):
                dets.xyxy = (dets.xyxy * scale).astype(dets.xyxy.dtype)
        return found

    parts = [tiles[i : i + chunk] for i in range(0, len(tiles), chunk)]
    found: list[Detections] = []
    if workers > 1 and len(parts) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(workers, len(parts))) as pool:
            for result in pool.map(run, parts):  # in order: merge results do not depend on it
                found += result
    else:
        for part in parts:
            found += run(part)
    return merge_slices(found, tiles, cfg)


def detect_sliced(
    detector: Detector, image: np.ndarray, cfg: SliceConfig, workers: int = 1
) -> Detections:
    """Sliced detection on one BGR image (``plan_slices`` then ``detect_tiles``)."""
    height, width = image.shape[:2]
    tiles = plan_slices(width, height, cfg, detector.prep.size)
    if tiles == [(0, 0, width, height)]:
        return detector.detect(image)
    return detect_tiles(detector, image, tiles, cfg, workers=workers)
