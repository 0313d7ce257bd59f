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
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from _common import DATA, ROOT, machine
from shigu.analytics import LineSpec, SceneAnalytics
from shigu.core.detections import Detections
from shigu.core.frame import Frame
from shigu.detect import load_detector
from shigu.sources import open_source
from shigu.track import create_tracker
from shigu.track.offline import load_mot_detections

sys.path.insert(0, str(ROOT))
from tests.pipeline.gt_crossings import PETS_LINES, count_crossings, gt_anchor_tracks

MOT = DATA / "mot"
CONFIGS = [("bytetrack", 0.0), ("bytetrack", 2.0), ("ocsort", 0.0), ("ocsort", 2.0)]


@dataclass
class Sequence:
    name: str
    frames: list[tuple[float, Detections]]  # (time s, detections)
    fps: float
    size: tuple[int, int]
    gt_tracks: list[np.ndarray]  # per GT track: (n, 2) bottom-centres in frame order
    labels: list[str]


Point = tuple[float, float]
Lines = dict[str, tuple[Point, Point, dict[str, int]]]  # id -> (p1, p2, true counts)


def random_lines(seq: Sequence, n: int, need: int, seed: int = 0) -> Lines:
    rng = random.Random(seed)
    w, h = seq.size
    out: Lines = {}
    for _ in range(20_000):
        if len(out) >= n:
            break
        p1 = (rng.uniform(0.04 * w, 0.96 * w), rng.uniform(0.04 * h, 0.96 * h))
        angle, length = rng.uniform(0, np.pi), rng.uniform(0.25, 0.8) * w
        p2 = (p1[0] + length * np.cos(angle), p1[1] + length * np.sin(angle))
        if not (0 <= p2[0] < w and 0 <= p2[1] < h):
            continue
        truth = count_crossings(seq.gt_tracks, p1, p2)
        if min(truth.values()) >= need:
            out[f"r{len(out)}"] = (p1, p2, truth)
    return out


def count(seq: Sequence, tracker: str, relink_s: float, lines: Lines) -> dict[str, Any]:
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
    tracks, labels = gt_anchor_tracks(pets_gt, 0.625), list(detector.labels)
    yield Sequence("PETS video, YOLOX-nano", frames, fps, (480, 360), tracks, labels)
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
            gt_anchor_tracks(gt_file, 1.0),
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
    hand_drawn: dict[tuple[str, float], dict[str, Any]] = {}
    for seq in sequences(args.gt_boxes):
        lines = random_lines(seq, args.lines, args.min_crossings)
        hand: Lines = {}
        if seq.name.startswith("PETS video"):  # the test's lines, counted in the same runs
            hand = {
                k: (a, b, count_crossings(seq.gt_tracks, a, b)) for k, (a, b) in PETS_LINES.items()
            }
        row = f"{seq.name[:22]:<22}{len(lines):>3} ln"
        for cfg in CONFIGS:
            got = count(seq, *cfg, {**lines, **{f"hand:{k}": v for k, v in hand.items()}})
            errs = [
                (got[k][d] - truth[d]) / truth[d]
                for k, (*_, truth) in lines.items()
                for d in ("in", "out")
            ]
            totals[cfg] += [abs(e) for e in errs]
            signed[cfg] += errs
            e = np.abs(errs)
            row += f"{e.mean():>10.3f}{np.mean(e <= 0.1):>7.2f}{np.mean(errs):>+9.3f}"
            if hand:
                hand_drawn[cfg] = {k: (got[f"hand:{k}"], truth) for k, (*_, truth) in hand.items()}
        print(row, flush=True)
    row = f"{'all':<28}"
    for cfg in CONFIGS:
        e = np.array(totals[cfg])
        row += f"{e.mean():>10.3f}{np.mean(e <= 0.1):>7.2f}{np.mean(signed[cfg]):>+9.3f}"
    print(row)
    print("\nPETS video, the five hand-drawn lines of the test (ours / truth, worst error):")
    for cfg, per_line in hand_drawn.items():
        cells, worst = [], 0.0
        for k, (got, truth) in per_line.items():
            cells.append(f"{k} {got['in']}/{truth['in']} {got['out']}/{truth['out']}")
            worst = max(worst, *(abs(got[d] - truth[d]) / truth[d] for d in ("in", "out")))
        print(f"  {cfg[0]} relink {cfg[1]:g}s: {'; '.join(cells)}  (worst {worst:.0%})")


if __name__ == "__main__":
    main()
