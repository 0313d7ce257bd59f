"""Low-light enhancement on the shared LOL pairs: PSNR/SSIM per image and median time per
image for every method, in one run; the ratio of each method's time to LYT-Net's (640x360).
Also prints the mean luma of the LOL low images and the shared COCO images (the ``auto``
gate's threshold lies between them).

    python benchmarks/lowlight.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from shigu.solutions.lowlight.enhance import make_enhancer, mean_luma
from shigu.solutions.lowlight.quality import psnr_ssim

DATA = Path(os.environ.get("SHIGU_TEST_DATA", "../shared/data"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--methods", default="lyt,lyt-fast,sci,gamma,clahe")
    args = ap.parse_args()
    lol = DATA / "lowlight" / "LOL_train_subset"
    names = sorted((lol / "low").glob("*.png"), key=lambda p: int(p.stem))
    lows = [cv2.imread(str(p)) for p in names]
    gts = [cv2.imread(str(lol / "high" / p.name))[..., ::-1] for p in names]
    medians: dict[str, float] = {}
    for method in args.methods.split(","):
        enh = make_enhancer(method)
        enh(lows[0])  # warm up
        times, rows = [], []
        for low, gt, path in zip(lows, gts, names, strict=True):
            runs = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                out = enh(low)
                runs.append(time.perf_counter() - t0)
            times.append(statistics.median(runs))
            rows.append((path.stem, *psnr_ssim(np.ascontiguousarray(out[..., ::-1]), gt)))
        medians[method] = statistics.median(times)
        per = " ".join(f"{s}:{p:.1f}/{q:.2f}" for s, p, q in rows)
        psnr, ssim = np.mean([r[1] for r in rows]), np.mean([r[2] for r in rows])
        ms = medians[method] * 1000
        print(f"{method:9s} PSNR {psnr:6.2f}  SSIM {ssim:.3f}  median {ms:7.1f} ms")
        print(f"          per image (PSNR/SSIM): {per}")
    if "lyt" in medians:
        for m, t in medians.items():
            print(f"time {m} / lyt = {t / medians['lyt']:.3f} ({medians['lyt'] / t:.1f}x faster)")
    coco = sorted((DATA / "images" / "coco_val2017").glob("*.jpg"))
    low_l = sorted(round(mean_luma(i), 3) for i in lows)
    coco_l = sorted(round(mean_luma(cv2.imread(str(p))), 3) for p in coco)
    print(f"mean luma: LOL low max {max(low_l)} {low_l}")
    print(f"mean luma: COCO min {min(coco_l)} (first 10: {coco_l[:10]})")


if __name__ == "__main__":
    main()
