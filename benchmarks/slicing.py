# ruff: noqa: E501  (the worker script below runs in a fresh process and is kept compact)
"""Sliced inference: accuracy on the DOTA aerial image, throughput and memory against SAHI
0.12 and supervision's InferenceSlicer on the same ONNX model, and merging speed.

(a) DOTA P1888 (64 vehicles): recall at IoU 0.5 and AP50, whole image vs sliced, for
YOLOX-nano and NanoDet-m. COCO models have never seen vehicles from above (they call them
person, cell phone...), so "any class" counts every detection as a vehicle (finding them);
"vehicle classes" counts only car, truck and bus (naming them too).
(b) Images per second and peak memory (each method in a fresh process, max RSS) on the DOTA
image tiled 3x3 (2136x1671), same model, slices, overlap and merge: ours (tiles through the
model in chunks, two threads) vs SAHI's get_sliced_prediction (its default greedy NMM, IoS
0.5, with the whole-image pass) vs supervision's InferenceSlicer (NMS, no whole-image pass;
ours run the same way for that comparison).
(c) Merging 10,000 boxes: ours (STRtree) vs SAHI's GreedyNMMPostprocess, same boxes.
(d) A very large tiled TIFF (the DOTA image repeated, deflate, 512 px tiles; --large-size,
default 12000 x 12000): sliced at 640 read lazily (windows decoded as slices ask) vs the same
image decoded whole first, each in a fresh process: wall time, peak RSS, same boxes.

Usage: python benchmarks/slicing.py [--repeats 5] [--slice 256] [--parts accuracy,throughput,merge,large]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import cv2
import numpy as np

from _common import DATA, ROOT, machine, median

sys.path.insert(0, str(ROOT))

IMAGE = DATA / "aerial" / "dota" / "images" / "P1888.png"
LABELS = DATA / "aerial" / "dota" / "labelTxt" / "P1888.txt"
VEHICLES = {"car": "vehicle", "truck": "vehicle", "bus": "vehicle",
            "small-vehicle": "vehicle", "large-vehicle": "vehicle"}  # fmt: skip


def accuracy() -> None:
    from shigu.detect import load_detector
    from shigu.detect.slicing import SliceConfig, detect_sliced
    from shigu.eval.aerial import aerial_evaluate, read_dota

    image = cv2.imread(str(IMAGE))
    truth = {1: read_dota(LABELS)}
    size = {1: (image.shape[1], image.shape[0])}
    print(f"(a) DOTA P1888 {image.shape[1]}x{image.shape[0]}, {len(truth[1])} vehicles; "
          "recall50 / AP50 any class (recall50 vehicle classes); conf 0.05, overlap 0.2")  # fmt: skip
    print("| model | whole image | slice 416 | slice 256 | slice 160 | best / whole |")
    print("|---|---|---|---|---|---|")
    for name in ("yolox-nano", "nanodet-m"):
        det = load_detector(name, conf=0.05)
        anything = {**dict.fromkeys(det.labels, "vehicle"), **VEHICLES}
        cells, recalls = [], []
        for s in (None, 416, 256, 160):
            found = (
                det.detect(image) if s is None else detect_sliced(det, image, SliceConfig(size=s))
            )
            a = aerial_evaluate(truth, size, {1: found}, det.labels, anything)
            v = aerial_evaluate(truth, size, {1: found}, det.labels, VEHICLES)
            recalls.append(a["recall50"])
            cells.append(f"{a['recall50']:.3f} / {a['AP50']:.3f} ({v['recall50']:.3f})")
        ratio = max(recalls[1:]) / recalls[0] if recalls[0] else float("inf")
        print(f"| {name} | " + " | ".join(cells) + f" | {ratio:.1f}x |")
    print()


WORKER = r"""
import json, resource, sys, time
import cv2, numpy as np
sys.path.insert(0, sys.argv[1])
method, image_path, size, repeats = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
from shigu.detect import load_detector
from shigu.detect.slicing import SliceConfig, detect_sliced
# each tool as it runs best: ours and supervision drive tiles from two threads with one ONNX
# Runtime thread each (what `shigu detect` does on two cores); SAHI's loop is sequential, so
# its model gets every core for each run
det = load_detector("yolox-nano", conf=0.05, threads=0 if method == "sahi" else 1)
image = cv2.imread(image_path)
tiled = np.tile(image, (3, 3, 1))
if method in ("ours", "ours_nofull"):
    cfg = SliceConfig(size=size, overlap=0.2, full=method == "ours",
                      merge="greedy_nmm" if method == "ours" else "nms",
                      metric="ios" if method == "ours" else "iou")
    run = lambda: len(detect_sliced(det, tiled, cfg, workers=2))
elif method == "sahi":
    from sahi.models.base import DetectionModel
    from sahi.predict import get_sliced_prediction
    from sahi.prediction import ObjectPrediction
    from sahi.utils.compatibility import fix_full_shape_list, fix_shift_amount_list
    class Ours(DetectionModel):
        def load_model(self):
            self.model = det
            self.category_mapping = {str(i): n for i, n in enumerate(det.labels)}
        def perform_inference(self, image):
            self._original_predictions = [det.detect(np.ascontiguousarray(image[..., ::-1]))]
        @property
        def num_categories(self): return len(det.labels)
        @property
        def has_mask(self): return False
        @property
        def category_names(self): return list(det.labels)
        def _create_object_prediction_list_from_original_predictions(self, shift_amount_list=None, full_shape_list=None):
            d = self._original_predictions[0]
            shift = fix_shift_amount_list(shift_amount_list)[0]
            fulls = fix_full_shape_list(full_shape_list)
            full = fulls[0] if fulls else None
            self._object_prediction_list_per_image = [[
                ObjectPrediction(bbox=b, category_id=int(c), category_name=det.labels[int(c)],
                                 score=float(s), shift_amount=list(shift), full_shape=full)
                for b, s, c in zip(d.xyxy.tolist(), d.confidence, d.class_id) if b[0] < b[2] and b[1] < b[3]]]
    model = Ours(confidence_threshold=0.05)
    rgb = tiled[..., ::-1].copy()
    run = lambda: len(get_sliced_prediction(rgb, model, slice_height=size, slice_width=size,
        overlap_height_ratio=0.2, overlap_width_ratio=0.2, verbose=0,
        force_postprocess_type=True).object_prediction_list)  # else NMS below conf 0.1
elif method == "supervision":
    import supervision as sv
    def callback(crop):
        d = det.detect(crop)
        return sv.Detections(xyxy=d.xyxy.astype(np.float32), confidence=d.confidence, class_id=d.class_id)
    slicer = sv.InferenceSlicer(callback=callback, slice_wh=(size, size),
                                overlap_wh=(int(0.2 * size), int(0.2 * size)), iou_threshold=0.5,
                                thread_workers=2)
    run = lambda: len(slicer(tiled))
run()  # warm-up
times, n = [], 0
for _ in range(repeats):
    t = time.perf_counter(); n = run(); times.append(time.perf_counter() - t)
print(json.dumps({"seconds": sorted(times)[len(times) // 2], "boxes": n,
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "shape": list(tiled.shape)}))
"""


def throughput(repeats: int, size: int) -> None:
    results = {}
    for method in ("ours", "sahi", "ours_nofull", "supervision"):
        proc = subprocess.run(
            [sys.executable, "-c", WORKER, str(ROOT), method, str(IMAGE), str(size), str(repeats)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            print(f"{method} failed: {proc.stderr.strip().splitlines()[-1:]}")
            continue
        results[method] = json.loads(proc.stdout.strip().splitlines()[-1])
    shape = next(iter(results.values()))["shape"] if results else "?"
    print(f"(b) {shape[1]}x{shape[0]} image, slice {size}, overlap 0.2, yolox-nano, "
          f"median of {repeats}")  # fmt: skip
    print("| method | images/s | boxes | peak RSS (MB) |")
    print("|---|---|---|---|")
    for method, r in results.items():
        print(f"| {method} | {1 / r['seconds']:.2f} | {r['boxes']} | {r['max_rss_mb']:.0f} |")
    if "ours" in results and "sahi" in results:
        print(f"ours / SAHI: {results['sahi']['seconds'] / results['ours']['seconds']:.2f}x")
    if "ours_nofull" in results and "supervision" in results:
        ratio = results["supervision"]["seconds"] / results["ours_nofull"]["seconds"]
        print(f"ours (NMS, no whole pass) / supervision: {ratio:.2f}x")
    print()


def merging(repeats: int) -> None:
    from sahi.postprocess.combine import GreedyNMMPostprocess
    from sahi.prediction import ObjectPrediction

    from shigu.core.detections import Detections
    from shigu.detect.slicing import merge_boxes

    rng = np.random.default_rng(0)
    for n in (2_000, 10_000):
        centres = rng.uniform(0, 4000, (n // 3, 2))
        pick = centres[rng.integers(0, len(centres), n)] + rng.normal(0, 4, (n, 2))
        wh = rng.uniform(10, 40, (n, 2))
        xyxy = np.concatenate([pick - wh / 2, pick + wh / 2], 1).clip(0, None)
        dets = Detections(xyxy, rng.uniform(0.05, 1, n), rng.integers(0, 3, n))
        ours = []
        for _ in range(repeats):
            t = time.perf_counter()
            kept = merge_boxes(dets, "greedy_nmm", "ios", 0.5)
            ours.append(time.perf_counter() - t)
        preds = [ObjectPrediction(bbox=b, category_id=int(c), category_name=str(c),
                                  score=float(s), shift_amount=[0, 0], full_shape=None)
                 for b, s, c in zip(xyxy.tolist(), dets.confidence, dets.class_id, strict=True)]  # fmt: skip
        post = GreedyNMMPostprocess(match_threshold=0.5, match_metric="IOS", class_agnostic=False)
        theirs = []
        for _ in range(max(1, repeats // 2)):
            t = time.perf_counter()
            out = post(list(preds))
            theirs.append(time.perf_counter() - t)
        print(f"(c) merge {n} boxes (greedy NMM, IoS 0.5, per class): ours "
              f"{1000 * median(ours):.1f} ms, SAHI {1000 * median(theirs):.1f} ms "
              f"({median(theirs) / median(ours):.1f}x); kept {len(kept)} vs {len(out)}")  # fmt: skip
    print()


LARGE_WORKER = """
import json, resource, sys, time
from pathlib import Path
from shigu.detect import load_detector
from shigu.detect.slicing import SliceConfig, detect_tiles, plan_slices
from shigu.sources.images import read_image
from shigu.sources.large_image import TiffWindows
path, mode = Path(sys.argv[1]), sys.argv[2]
det = load_detector("yolox-nano", conf=0.05, threads=1)
cfg = SliceConfig(size=640, overlap=0.2)
t = time.perf_counter()
image = TiffWindows(path) if mode == "lazy" else read_image(path)
h, w = image.shape[:2]
found = detect_tiles(det, image, plan_slices(w, h, cfg, det.prep.size), cfg, workers=2)
print(json.dumps({"seconds": time.perf_counter() - t, "boxes": len(found),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def large(size: int) -> None:
    import tempfile
    from pathlib import Path

    import tifffile

    base = cv2.imread(str(IMAGE))[..., ::-1]
    bh, bw = base.shape[:2]
    tile = 512

    def tiles():  # type: ignore[no-untyped-def]
        for ty in range(0, size, tile):
            for tx in range(0, size, tile):
                ys, xs = np.arange(ty, ty + tile) % bh, np.arange(tx, tx + tile) % bw
                yield np.ascontiguousarray(base[ys][:, xs])

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "large.tif"
        tifffile.imwrite(path, tiles(), shape=(size, size, 3), dtype=np.uint8, tile=(tile, tile),
                         photometric="rgb", compression="zlib", bigtiff=True)  # fmt: skip
        runs = {}
        for mode in ("lazy", "whole"):
            proc = subprocess.run([sys.executable, "-c", LARGE_WORKER, str(path), mode],
                                  capture_output=True, text=True, check=True)  # fmt: skip
            runs[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
        lazy, whole = runs["lazy"], runs["whole"]
        print(f"(d) {size}x{size} tiled TIFF sliced at 640: read lazily {lazy['seconds']:.1f} s, "
              f"peak {lazy['rss_mb']:.0f} MB; decoded whole {whole['seconds']:.1f} s, peak "
              f"{whole['rss_mb']:.0f} MB; boxes {lazy['boxes']} vs {whole['boxes']}")  # fmt: skip
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--slice", type=int, default=256)
    parser.add_argument("--parts", default="accuracy,throughput,merge,large", help="which to run")
    parser.add_argument("--large-size", type=int, default=12000, help="(d): image side in px")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    print(f"machine: {machine()}\n")
    if "accuracy" in parts:
        accuracy()
    if "throughput" in parts:
        throughput(args.repeats, args.slice)
    if "merge" in parts:
        merging(args.repeats)
    if "large" in parts:
        large(args.large_size)


if __name__ == "__main__":
    main()
