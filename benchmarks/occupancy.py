"""Occupancy counts against ground truth: per-frame head count in a zone, MAE per sequence.

The pipeline (yolox-nano, ByteTrack, as `shigu run`) runs over the PETS2009 S2L1 video; the
MOT17 and MOT15 sequences (whose pictures the shared data mostly lacks) run their public
detections through ByteTrack. Per frame the people counted in a zone (tracked boxes whose
bottom centre lies in it, as the `occupancy` rule counts) are compared with the ground-truth
people whose bottom centre lies in it (MOT15 boxes scaled to the 480x360 PETS video; MOT17
pedestrians with the "consider" flag). The zone is the middle half of the picture (a quarter
in from each side).

Usage: python benchmarks/occupancy.py [--max-frames N]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from _common import DATA, machine
from shigu.core.geometry import Polygon
from shigu.pipeline import Pipeline, parse_config
from shigu.sources import open_source

PETS = (DATA / "video" / "pets2009_s2l1_vtest_480x360.avi",
        DATA / "mot" / "MOT15" / "PETS09-S2L1" / "gt" / "gt.txt", 0.625)  # fmt: skip
PUBLIC = [
    *sorted((DATA / "mot" / "MOT17").glob("MOT17-*")),
    *(DATA / "mot" / "MOT15" / n for n in ("PETS09-S2L1", "TUD-Campus", "ETH-Sunnyday")),
]


def gt_feet(path: Path, scale: float, mot17: bool) -> dict[int, np.ndarray]:
    """0-based frame -> (n, 2) bottom centres of the ground-truth people."""
    rows = np.loadtxt(path, delimiter=",")
    if mot17:
        rows = rows[(rows[:, 6] == 1) & (rows[:, 7] == 1)]  # considered pedestrians
    out: dict[int, list[tuple[float, float]]] = {}
    for r in rows:
        x, y, w, h = (r[2:6] * scale).tolist()
        out.setdefault(int(r[0]) - 1, []).append((x + w / 2, y + h))
    return {k: np.array(v) for k, v in out.items()}


def counts(uri: str, zone: Polygon, tmp: Path, max_frames: int | None) -> list[int]:
    cfg = parse_config({
        "sources": [{"id": "s", "uri": uri}],
        "pipeline": {"detector": {"classes": ["person"]}},
        "store": {"url": f"sqlite:///{tmp}/o.db", "media_dir": str(tmp / "m")},
        "media": {"snapshots": False},
    })  # fmt: skip
    out: list[int] = []

    def count(_sid: str, _image: np.ndarray, dets: Any) -> None:
        if not len(dets):
            out.append(0)
            return
        feet = np.stack([(dets.xyxy[:, 0] + dets.xyxy[:, 2]) / 2, dets.xyxy[:, 3]], axis=1)
        out.append(int(zone.contains(feet).sum()))

    Pipeline(cfg, max_frames=max_frames, on_frame=count).run()
    return out


def public_counts(seq: Path, zone: Polygon) -> list[int]:
    """Per-frame count of ByteTrack's boxes (on the public detections) in the zone."""
    from shigu.track import create_tracker
    from shigu.track.offline import load_mot_detections

    dets = load_mot_detections(seq)
    tracker = create_tracker("bytetrack", dets.info.frame_rate)
    out = []
    for frame in dets.frames:
        t = tracker.update(frame)
        feet = np.stack([(t.xyxy[:, 0] + t.xyxy[:, 2]) / 2, t.xyxy[:, 3]], axis=1)
        out.append(int(zone.contains(feet).sum()) if len(t) else 0)
    return out


def middle(w: float, h: float) -> Polygon:
    return Polygon([(w / 4, h / 4), (3 * w / 4, h / 4), (3 * w / 4, 3 * h / 4), (w / 4, 3 * h / 4)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-frames", type=int, default=None)
    args = ap.parse_args()
    print(machine())
    print(f"{'sequence':<34}{'frames':>7}{'mean GT':>9}{'mean ours':>11}{'MAE':>7}{'MAE/GT':>8}")
    maes = []

    def report(name: str, ours: list[int], feet: dict[int, np.ndarray], zone: Polygon) -> None:
        truth = [int(zone.contains(feet[i]).sum()) if i in feet else 0 for i in range(len(ours))]
        mae = float(np.abs(np.array(ours) - np.array(truth)).mean())
        maes.append(mae)
        print(f"{name:<34}{len(ours):>7}{np.mean(truth):>9.2f}{np.mean(ours):>11.2f}"
              f"{mae:>7.2f}{mae / max(float(np.mean(truth)), 1e-9):>8.2f}")  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        src = open_source(str(PETS[0]))
        zone = middle(src.info.width, src.info.height)
        src.close()
        ours = counts(str(PETS[0]), zone, Path(tmp), args.max_frames)
        report("PETS09-S2L1 video, pipeline", ours, gt_feet(PETS[1], PETS[2], False), zone)
    for seq in PUBLIC:
        from shigu.sources.mot import read_seqinfo

        info = read_seqinfo(seq)
        zone = middle(info.width, info.height)
        ours = public_counts(seq, zone)
        report(f"{seq.name} public detections", ours,
               gt_feet(seq / "gt" / "gt.txt", 1.0, seq.parent.name == "MOT17"), zone)  # fmt: skip
    print(f"median MAE over sequences: {float(np.median(maes)):.2f}")


if __name__ == "__main__":
    main()
