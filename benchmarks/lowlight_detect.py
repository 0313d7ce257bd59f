"""Does enhancement help detection? COCO AP of a detector on the ExDark low-light image(s)
with and without each enhancement (ExDark classes mapped to COCO names), and whether ``auto``
changes anything on the shared well-lit COCO images (it must not: identical detections).

    python benchmarks/lowlight_detect.py [--model yolox-nano]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import cv2
import numpy as np

from shigu.detect.factory import load_detector
from shigu.eval.aerial import AerialObject, aerial_evaluate
from shigu.solutions.lowlight.enhance import make_enhancer

DATA = Path(os.environ.get("SHIGU_TEST_DATA", "../shared/data"))
EXDARK = [
    "bicycle",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cup",
    "dog",
    "motorcycle",
    "person",
    "dining table",
]  # fmt: skip  (ExDark ids 0..11 as COCO names)


def exdark_truth(folder: Path) -> dict[str, tuple[list[AerialObject], tuple[int, int]]]:
    out = {}
    for label in sorted((folder / "labels_yolo").glob("*.txt")):
        image = cv2.imread(str(folder / f"{label.stem}.png"))
        h, w = image.shape[:2]
        objs = []
        for row in label.read_text().split("\n"):
            if row.strip():
                c, xc, yc, bw, bh = row.split()
                x, y, ww, hh = float(xc) * w, float(yc) * h, float(bw) * w, float(bh) * h
                objs.append(AerialObject((x - ww / 2, y - hh / 2, x + ww / 2, y + hh / 2),
                                         EXDARK[int(c)]))  # fmt: skip
        out[label.stem] = (objs, (w, h))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="yolox-nano")
    ap.add_argument("--conf", type=float, default=0.05)
    args = ap.parse_args()
    det = load_detector(args.model, conf=args.conf)
    folder = DATA / "lowlight" / "exdark"
    truth = exdark_truth(folder)
    stems = list(truth)
    images = [cv2.imread(str(folder / f"{s}.png")) for s in stems]
    cmap = {n: n for n in EXDARK}
    for method in ["none", "auto", "lyt", "sci", "gamma", "clahe"]:
        enh = None if method == "none" else make_enhancer(method)
        found = {i: det.detect(img if enh is None else enh(img)) for i, img in enumerate(images)}
        gt = {i: truth[s][0] for i, s in enumerate(stems)}
        sizes = {i: truth[s][1] for i, s in enumerate(stems)}
        m = aerial_evaluate(gt, sizes, found, det.labels, cmap)
        print(
            f"ExDark ({len(stems)} image(s), {sum(len(g) for g in gt.values())} objects) "
            f"{method:6s} AP {m['AP']:.3f} AP50 {m['AP50']:.3f} recall50 {m['recall50']:.3f}"
        )
    auto = make_enhancer("auto")
    same = 0
    coco = sorted((DATA / "images" / "coco_val2017").glob("*.jpg"))
    for p in coco:
        img = cv2.imread(str(p))
        a, b = det.detect(img), det.detect(auto(img))
        same += int(np.array_equal(a.xyxy, b.xyxy) and np.array_equal(a.class_id, b.class_id))
    print(f"COCO well-lit: auto left {same}/{len(coco)} images' detections identical")


if __name__ == "__main__":
    main()
