"""True line crossings from MOTChallenge ground-truth tracks (independent of Shigu's code)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# Lines across the PETS2009 S2L1 walkway (480x360 video), chosen by hand before measuring,
# each crossed at least 11 times per direction by the ground-truth tracks. (The default
# tracker and relinking were chosen on hundreds of random lines over three sequences, not
# on these: benchmarks/line_counts.py.)
PETS_LINES: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "centre": ((240, 60), (240, 350)),
    "east": ((330, 80), (330, 340)),
    "far_east": ((380, 60), (380, 340)),
    "diagonal": ((150, 100), (400, 330)),
    "across": ((60, 200), (420, 160)),
}


def gt_anchor_tracks(gt_file: Path, scale: float = 1.0) -> list[np.ndarray]:
    """Bottom-centres of each ground-truth track (rows flagged 'consider'), frame order."""
    rows = np.loadtxt(gt_file, delimiter=",")
    rows = rows[rows[:, 6] != 0]
    tracks = []
    for tid in np.unique(rows[:, 1]):
        tr = rows[rows[:, 1] == tid]
        tr = tr[np.argsort(tr[:, 0])]
        tracks.append(np.c_[(tr[:, 2] + tr[:, 4] / 2) * scale, (tr[:, 3] + tr[:, 5]) * scale])
    return tracks


def _side(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross product of a-o and b-o: which side of the line o→a the point b lies on."""
    return (a[..., 0] - o[..., 0]) * (b[..., 1] - o[..., 1]) - (a[..., 1] - o[..., 1]) * (
        b[..., 0] - o[..., 0]
    )


def count_crossings(
    tracks: list[np.ndarray], p1: tuple[float, float], p2: tuple[float, float]
) -> dict[str, int]:
    """Per direction, the tracks whose anchor crosses segment p1→p2 (each track at most once
    per direction; ``in`` = towards the right-hand side of p1→p2, y down)."""
    a, b = np.asarray(p1, float), np.asarray(p2, float)
    counts = {"in": 0, "out": 0}
    for pts in tracks:
        p, q = pts[:-1], pts[1:]
        before, after = _side(a, b, p), _side(a, b, q)
        end1, end2 = _side(p, q, a), _side(p, q, b)
        straddles = ((before < 0) & (after >= 0)) | ((after < 0) & (before >= 0))
        hit = straddles & (((end1 < 0) & (end2 >= 0)) | ((end2 < 0) & (end1 >= 0)))
        counts["in"] += bool(np.any(hit & (before < 0)))
        counts["out"] += bool(np.any(hit & (after < 0)))
    return counts


def ground_truth_crossings(
    gt_file: Path, p1: tuple[float, float], p2: tuple[float, float], scale: float = 1.0
) -> dict[str, int]:
    """Count, per direction, GT tracks whose bottom-centre crosses segment p1→p2."""
    return count_crossings(gt_anchor_tracks(gt_file, scale), p1, p2)
