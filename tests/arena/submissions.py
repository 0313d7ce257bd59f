"""Result files for arena tests, made from the shared ground truth: good, worse and bad
trackers (the ground truth with noise, dropped boxes, shuffled identities) and anomaly
scorers (maps from the masks, or noise)."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import cv2
import numpy as np


def mot_rows(gt_file: Path) -> np.ndarray:
    rows = np.loadtxt(gt_file, delimiter=",", ndmin=2)
    keep = (rows[:, 6] == 1) & (rows[:, 7] == 1)  # considered pedestrians
    return rows[keep][:, :6]


def mot_zip(gt_dir: Path, sequences: list[str], out: Path, kind: str, seed: int = 0) -> Path:
    """``kind``: good (jittered boxes), drop (60 % of boxes dropped), shuffle (identities
    reassigned at random every frame)."""
    rng = np.random.default_rng(seed)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for seq in sequences:
            rows = mot_rows(gt_dir / seq / "gt" / "gt.txt")
            if kind == "good":
                rows[:, 2:4] += rng.normal(0, 1.5, (len(rows), 2))
            elif kind == "drop":
                rows = rows[rng.random(len(rows)) > 0.6]
            elif kind == "shuffle":  # every frame draws its identities afresh
                for frame in np.unique(rows[:, 0]):
                    at = rows[:, 0] == frame
                    rows[at, 1] = rng.permutation(400)[: int(at.sum())] + 1
            buf = io.StringIO()
            for r in rows:
                buf.write(
                    f"{int(r[0])},{int(r[1])},{r[2]:.1f},{r[3]:.1f},{r[4]:.1f},{r[5]:.1f},1,-1,-1,-1\n"
                )
            zf.writestr(f"results/{seq}.txt", buf.getvalue())
    return out


def anomaly_zip(gt_dir: Path, out: Path, kind: str, seed: int = 0, maps: bool = True) -> Path:
    """``kind``: good (scores and maps from the masks, blurred, with noise), noise."""
    rng = np.random.default_rng(seed)
    test = gt_dir / "test"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        lines = io.StringIO()
        writer = csv.writer(lines)
        writer.writerow(["image", "score"])
        for defect_dir in sorted(p for p in test.iterdir() if p.is_dir()):
            for image in sorted(defect_dir.iterdir()):
                h, w = cv2.imread(str(image), cv2.IMREAD_GRAYSCALE).shape
                mask = np.zeros((h, w), np.float32)
                mask_file = gt_dir / "ground_truth" / defect_dir.name / f"{image.stem}.png"
                if mask_file.is_file():
                    mask = (cv2.imread(str(mask_file), cv2.IMREAD_GRAYSCALE) > 0).astype(np.float32)
                if kind == "good":
                    amap = cv2.GaussianBlur(mask, (0, 0), 3) + rng.normal(0, 0.05, (h, w))
                else:
                    amap = rng.random((h, w))
                amap = amap.astype(np.float32)
                value = float(amap.max()) if kind == "good" else float(rng.random())
                writer.writerow([f"{defect_dir.name}/{image.name}", f"{value:.6f}"])
                if maps:
                    buf = io.BytesIO()
                    np.save(buf, amap)
                    zf.writestr(f"maps/{defect_dir.name}/{image.stem}.npy", buf.getvalue())
        zf.writestr("scores.csv", lines.getvalue())
    return out
