"""One setting at a time away from Shigu's default tracker, on MOT17 public detections.

Shows which default choices carry the accuracy (docs/tracking.md quotes the table). HOTA and
friends by TrackEval; no timing.

Usage: python benchmarks/track_ablation.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from _common import DATA, machine
from shigu.eval.mot import evaluate_mot
from shigu.track import create_tracker
from shigu.track.offline import (
    find_mot_sequences,
    load_mot_detections,
    run_tracker,
    write_mot_results,
)

MOT17 = DATA / "mot" / "MOT17"
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "bytetrack (default)": ("bytetrack", {}),
    "bytetrack-paper": ("bytetrack-paper", {}),
    "default, score fusion on": ("bytetrack", {"fuse_score": True}),
    "default, lost buffer 30": ("bytetrack", {"lost_buffer": 30}),
    "default, detection boxes out": ("bytetrack", {"output": "detection"}),
    "default, high 0.6 / new 0.7": ("bytetrack", {"high_thresh": 0.6, "new_track_thresh": 0.7}),
    "default, match IoU 0.2": ("bytetrack", {"match_iou": 0.2}),
}


def main() -> None:
    print(f"machine: {machine()}")
    seqs = [load_mot_detections(p) for p in find_mot_sequences(MOT17)]
    print("| variant | HOTA | AssA | MOTA | IDF1 | IDSW |\n|---|---|---|---|---|---|")
    for name, (preset, overrides) in VARIANTS.items():
        with tempfile.TemporaryDirectory() as tmp:
            for seq in seqs:
                tracker = create_tracker(preset, seq.info.frame_rate, **overrides)
                write_mot_results(
                    Path(tmp) / f"{seq.info.name}.txt", run_tracker(tracker, seq).tracked
                )
            m = evaluate_mot(MOT17, tmp).combined
        print(
            f"| {name} | {m['HOTA']:.1f} | {m['AssA']:.1f} | {m['MOTA']:.1f} | {m['IDF1']:.1f} "
            f"| {m['IDSW']:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
