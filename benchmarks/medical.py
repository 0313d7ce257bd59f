"""Medical imaging: conversion against dcm2niix, metrics against MONAI, same inputs, same run.

Conversion: each shared CT series to .nii.gz, back to back, as commands a user runs
(`shigu med convert` and `dcm2niix -z y`, Python start-up included) and, for ours, in process
(read, resample, write). Metrics: Dice, IoU, HD95 and ASD for all 41 labels of the shared
TotalSegmentator segmentation against a perturbed copy (each label dilated, shifted or eroded),
ours (`shigu.solutions.medical.metrics`) vs MONAI's compute_* functions on the same masks.
Medians over --repeats runs.

    python benchmarks/medical.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import DATA, ROOT, machine
from shigu.solutions.medical import load_series, read_nifti, write_nifti
from shigu.solutions.medical.metrics import score_labels

sys.path.insert(0, str(ROOT))
from tests.solutions.medical.perturb import perturbed

SERIES = ("ct_philips_phantom_5mm", "ct_ge_head_gantry_tilt")


def _time(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def conversion(repeats: int) -> None:
    shigu = [str(Path(sys.executable).with_name("shigu"))]
    beside = Path(sys.executable).with_name("dcm2niix")
    dcm2niix = str(beside) if beside.exists() else shutil.which("dcm2niix")
    assert dcm2niix, "pip install dcm2niix"
    print("conversion (median seconds per series)")
    print(f"{'series':28s} {'shigu CLI':>10s} {'dcm2niix':>10s} {'ratio':>7s} {'in-process':>11s}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for name in SERIES:
            folder = DATA / "medical" / name

            def ours_cli(folder: Path = folder) -> None:
                command = [*shigu, "med", "convert", str(folder), "--out", str(out / "o.nii.gz")]
                subprocess.run(command, check=True, capture_output=True)

            def reference(folder: Path = folder) -> None:
                command = [dcm2niix, "-z", "y", "-f", "ref", "-o", str(out), str(folder)]
                subprocess.run(command, check=True, capture_output=True)

            def ours_library(folder: Path = folder) -> None:
                write_nifti(load_series(folder), out / "lib.nii.gz")

            ours_cli()  # warm the page cache for both
            reference()
            a, b, c = (_time(f, repeats) for f in (ours_cli, reference, ours_library))
            print(f"{name:28s} {a:10.2f} {b:10.2f} {b / a:7.2f} {c:11.2f}")


def metrics(repeats: int) -> None:
    import torch
    from monai.metrics import (
        compute_average_surface_distance,
        compute_dice,
        compute_hausdorff_distance,
        compute_iou,
    )

    volume = read_nifti(DATA / "medical" / "totalsegmentator" / "example_seg.nii.gz")
    gt = np.asarray(volume.data).astype(np.int16)
    labels = sorted(set(np.unique(gt).tolist()) - {0})
    pred = perturbed(gt, labels)
    spacing = list(volume.spacing)

    def ours() -> None:
        score_labels(pred, gt, spacing, labels)

    def monai() -> None:
        p = torch.from_numpy(np.stack([pred == v for v in labels])[None].astype(np.float32))
        g = torch.from_numpy(np.stack([gt == v for v in labels])[None].astype(np.float32))
        compute_dice(p, g, include_background=True, ignore_empty=False)
        compute_iou(p, g, include_background=True, ignore_empty=False)
        compute_hausdorff_distance(p, g, include_background=True, percentile=95, spacing=spacing)
        compute_average_surface_distance(
            p, g, include_background=True, symmetric=True, spacing=spacing
        )

    ours()
    monai()
    a, b = _time(ours, repeats), _time(monai, repeats)
    print(
        f"\nmetrics, {len(labels)} labels on {'x'.join(map(str, gt.shape))} voxels (median seconds)"
    )
    print(f"shigu {a:.3f}  MONAI {b:.3f}  ratio {b / a:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(machine())
    conversion(args.repeats)
    metrics(args.repeats)


if __name__ == "__main__":
    main()
