"""Line-count accuracy against ground truth on many random lines: trackers x relinking.

For each sequence, random segments (seeded) that ground-truth tracks cross at least
--min-crossings times in each direction; the true count per direction is the number of GT
tracks whose bottom-centre crosses the segment that way (each track once per direction, as
in the issue). Shigu's count comes from the tracker + SceneAnalytics, exactly as `shigu run`
does after inference. Sequences: the PETS2009 video with YOLOX-nano (detected here), PETS09-S2L1
and MOT17-04 with their public detections (another detector; a crowded street at 30 fps).
Printed per sequence and configuration: mean absolute per-direction error, the share of
line-directions within 10 %, and the mean signed error (bias).

With --gt-boxes the two public-detection sequences are fed their ground-truth boxes instead
(perfect detection): what remains is the tracker's and the counter's own error.

Usage: python benchmarks/line_counts.py [--lines 40] [--min-crossings 10] [--gt-boxes]
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from _common import DATA, machine
from shigu.analytics import LineSpec, SceneAnalytics
from shigu.core.detections import Detections
from shigu.core.frame import Frame
from shigu.detect import load_detector
from shigu.sources import open_source
from shigu.track import create_tracker
from shigu.track.offline import load_mot_detections

MOT = DATA / "mot"
CONFIGS = [("bytetrack", 0.0), ("bytetrack", 2.0), ("ocsort", 0.0), ("ocsort", 2.0)]
HAND_DRAWN_PETS = {  # the lines of tests/pipeline/test_run.py (480x360 video)
    "centre": ((240, 60), (240, 350)),
    "east": ((330, 80), (330, 340)),
    "far_east": ((380, 60), (380, 340)),
    "diagonal": ((150, 100), (400, 330)),
    "across": ((60, 200), (420, 160)),
}


@dataclass
class Sequence:
    name: str
    frames: list[tuple[float, Detections]]  # (time s, detections)
    fps: float
    size: tuple[int, int]
    gt_tracks: list[np.ndarray]  # per GT track: (n, 2) bottom-centres in frame order
    labels: list[str]


def gt_tracks(gt_file: Path, scale: float) -> list[np.ndarray]:
    rows = np.loadtxt(gt_file, delimiter=",")
    rows = rows[rows[:, 6] != 0]
    out = []
    for tid in np.unique(rows[:, 1]):
        tr = rows[rows[:, 1] == tid]
        tr = tr[np.argsort(tr[:, 0])]
        out.append(np.c_[(tr[:, 2] + tr[:, 4] / 2) * scale, (tr[:, 3] + tr[:, 5]) * scale])
    return out


def _cross(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a[..., 0] - o[..., 0]) * (b[..., 1] - o[..., 1]) - (a[..., 1] - o[..., 1]) * (
        b[..., 0] - o[..., 0]
    )


def true_counts(tracks: list[np.ndarray], p1: np.ndarray, p2: np.ndarray) -> dict[str, int]:
    """Per direction, GT tracks whose anchor crosses p1→p2 (``in``: to the right-hand side)."""
    counts = {"in": 0, "out": 0}
    for pts in tracks:
        p, q = pts[:-1], pts[1:]
        d1, d2 = _cross(p1, p2, p), _cross(p1, p2, q)  # side of p and q
        d3, d4 = _cross(p, q, p1), _cross(p, q, p2)  # side of p1 and p2 along the step
        straddle = ((d1 < 0) & (d2 >= 0)) | ((d2 < 0) & (d1 >= 0))
        hit = straddle & (((d3 < 0) & (d4 >= 0)) | ((d4 < 0) & (d3 >= 0)))
        counts["in"] += bool(np.any(hit & (d1 < 0)))
        counts["out"] += bool(np.any(hit & (d2 < 0)))
    return counts


def random_lines(
    seq: Sequence, n: int, need: int, seed: int = 0
) -> dict[str, tuple[tuple[float, float], tuple[float, float], dict[str, int]]]:
    rng = random.Random(seed)
    w, h = seq.size
    out: dict[str, tuple[tuple[float, float], tuple[float, float], dict[str, int]]] = {}
    for _ in range(20_000):
        if len(out) >= n:
            break
        p1 = (rng.uniform(0.04 * w, 0.96 * w), rng.uniform(0.04 * h, 0.96 * h))
        angle, length = rng.uniform(0, np.pi), rng.uniform(0.25, 0.8) * w
        p2 = (p1[0] + length * np.cos(angle), p1[1] + length * np.sin(angle))
        if not (0 <= p2[0] < w and 0 <= p2[1] < h):
            continue
        truth = true_counts(seq.gt_tracks, np.array(p1), np.array(p2))
        if min(truth.values()) >= need:
            out[f"r{len(out)}"] = (p1, p2, truth)
    return out


def count(seq: Sequence, tracker: str, relink_s: float, lines: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    trk = create_tracker(tracker, seq.fps)
    specs = [LineSpec(k, (p1, p2)) for k, (p1, p2, _) in lines.items()]
    scene = SceneAnalytics("s", seq.labels, lines=specs, frame_size=seq.size, relink_s=relink_s)
    blank = np.zeros((seq.size[1], seq.size[0], 3), np.uint8)
    for i, (t, dets) in enumerate(seq.frames):
        scene.update(t, i, trk.update(dets, Frame(blank, i, t, "s")))
    scene.update(seq.frames[-1][0] + 3600, len(seq.frames), Detections.empty())  # all gone
    return scene.summary()["lines"]  # type: ignore[no-any-return]


def gt_boxes(gt_file: Path, frames: int) -> list[Detections]:
    rows = np.loadtxt(gt_file, delimiter=",")
    rows = rows[rows[:, 6] != 0]
    out = []
    for f in range(1, frames + 1):
        r = rows[rows[:, 0] == f]
        xyxy = r[:, 2:6].astype(np.float32)
        xyxy[:, 2:] += xyxy[:, :2]
        out.append(Detections(xyxy, np.ones(len(r), np.float32), np.zeros(len(r), np.int32)))
    return out


def sequences(use_gt_boxes: bool = False) -> Iterator[Sequence]:
    video = DATA / "video" / "pets2009_s2l1_vtest_480x360.avi"
    detector = load_detector("yolox-nano", conf=0.1, classes="person")
    with open_source(str(video)) as src:
        fps = src.output_fps or 10.0
        frames = [(f.timestamp, detector.detect(f.image)) for f in src]
    pets_gt = MOT / "MOT15" / "PETS09-S2L1" / "gt" / "gt.txt"
    yield Sequence("PETS video, YOLOX-nano", frames, fps, (480, 360), gt_tracks(pets_gt, 0.625),
                   list(detector.labels))  # fmt: skip
    for sub, name in (("MOT15", "PETS09-S2L1"), ("MOT17", "MOT17-04-FRCNN")):
        seq = load_mot_detections(MOT / sub / name)
        rate = seq.info.frame_rate
        gt_file = MOT / sub / name / "gt" / "gt.txt"
        dets = gt_boxes(gt_file, len(seq.frames)) if use_gt_boxes else seq.frames
        yield Sequence(
            f"{name}, {'GT boxes' if use_gt_boxes else 'public dets'}",
            [(i / rate, d) for i, d in enumerate(dets)],
            rate,
            (seq.info.width, seq.info.height),
            gt_tracks(gt_file, 1.0),
            ["person"],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=40, help="random lines per sequence")
    parser.add_argument("--min-crossings", type=int, default=10)
    parser.add_argument("--gt-boxes", action="store_true", help="ground-truth boxes as detections")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    header = "".join(f"{f'{t} relink {r:g}s':>26}" for t, r in CONFIGS)
    print(f"\nper-direction count error: mean | share within 10 % | bias\n{'':<28}{header}")
    totals: dict[tuple[str, float], list[float]] = {c: [] for c in CONFIGS}
    signed: dict[tuple[str, float], list[float]] = {c: [] for c in CONFIGS}
    hand_drawn: dict[tuple[str, float], dict[str, dict[str, int]]] = {}
    for seq in sequences(args.gt_boxes):
        lines = random_lines(seq, args.lines, args.min_crossings)
        row = f"{seq.name[:22]:<22}{len(lines):>3} ln"
        for cfg in CONFIGS:
            got = count(seq, *cfg, lines)
            errs = [
                (got[k][d] - truth[d]) / truth[d]
                for k, (*_, truth) in lines.items()
                for d in ("in", "out")
            ]
            totals[cfg] += [abs(e) for e in errs]
            signed[cfg] += errs
            e = np.abs(errs)
            row += f"{e.mean():>10.3f}{np.mean(e <= 0.1):>7.2f}{np.mean(errs):>+9.3f}"
            if seq.name.startswith("PETS video"):
                hand = {k: (a, b, {}) for k, (a, b) in HAND_DRAWN_PETS.items()}
                hand_drawn[cfg] = count(seq, *cfg, hand)
        print(row, flush=True)
    row = f"{'all':<28}"
    for cfg in CONFIGS:
        e = np.array(totals[cfg])
        row += f"{e.mean():>10.3f}{np.mean(e <= 0.1):>7.2f}{np.mean(signed[cfg]):>+9.3f}"
    print(row)
    print("\nPETS video, the five hand-drawn lines of the test (ours / truth, worst error):")
    video_tracks = gt_tracks(MOT / "MOT15" / "PETS09-S2L1" / "gt" / "gt.txt", 0.625)
    truths = {
        k: true_counts(video_tracks, np.array(a), np.array(b))
        for k, (a, b) in HAND_DRAWN_PETS.items()
    }
    for cfg, got in hand_drawn.items():
        cells, worst = [], 0.0
        for k, truth in truths.items():
            cells.append(f"{k} {got[k]['in']}/{truth['in']} {got[k]['out']}/{truth['out']}")
            worst = max(worst, *(abs(got[k][d] - truth[d]) / truth[d] for d in ("in", "out")))
        print(f"  {cfg[0]} relink {cfg[1]:g}s: {'; '.join(cells)}  (worst {worst:.0%})")


if __name__ == "__main__":
    main()
