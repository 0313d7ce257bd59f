"""Motion-gated detection: throughput and results with the gate on and off, same input.

(a) A mostly idle stream made from real footage: the PETS2009 video with the scene held
still for 250 frames after every 50 (tests/helpers.idle_video), its first --idle-frames.
Target: gated >= 3x the ungated fps with the same events and line counts.
(b) The busy PETS video as it is. Target: gated >= 0.95 of ungated fps, the same counts.
The pipeline: yolox-nano persons, ByteTrack with relinking, a zone with an intrusion rule,
two counting lines, SQLite events. Runs alternate; figures are medians of --repeats.

Usage: python benchmarks/motion.py [--repeats 3] [--idle-frames 1800]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import DATA, ROOT, machine, median

sys.path.insert(0, str(ROOT))
from tests.helpers import idle_video, pets_gate_config

from shigu.pipeline import Pipeline, parse_config

VIDEO = DATA / "video" / "pets2009_s2l1_vtest_480x360.avi"


def config(tmp: Path, video: Path, gated: bool) -> dict[str, Any]:
    name = f"{'gated' if gated else 'plain'}-{time.time_ns()}"
    return pets_gate_config(tmp, video, {"enabled": gated}, name)


def run(tmp: Path, video: Path, gated: bool) -> dict[str, Any]:
    """The run's summary, plus where the time went: the engine's stage timers (seconds) and
    the decode thread's busy seconds."""
    pipeline = Pipeline(parse_config(config(tmp, video, gated)))
    summary = pipeline.run()
    timers = {}
    for metric in pipeline.metrics.stage.collect():
        for sample in metric.samples:
            if sample.name.endswith("_sum"):
                timers[sample.labels["stage"]] = round(sample.value, 2)
    timers["decode thread"] = round(pipeline.states["gate"].runner.decode_seconds, 2)
    summary["timers"] = timers
    return summary


def compare(tmp: Path, video: Path, label: str, repeats: int, target: float) -> None:
    plain_fps, gated_fps = [], []
    same = True
    for rep in range(repeats):
        plain = run(tmp, video, False)
        gated = run(tmp, video, True)
        plain_fps.append(plain["fps"])
        gated_fps.append(gated["fps"])
        same &= gated["lines"] == plain["lines"] and gated["events"] == plain["events"]
        print(
            f"{label} run {rep + 1}: ungated {plain['fps']:.1f} fps, gated {gated['fps']:.1f} fps "
            f"({gated['sources']['gate']['motion_skipped']} of {gated['frames']} frames skipped); "
            f"lines {plain['lines']} vs {gated['lines']}; events {plain['events']} vs "
            f"{gated['events']}",
            flush=True,
        )
        print(f"  seconds: wall {plain['seconds']} ungated, {gated['seconds']} gated; "
              f"ungated {plain['timers']}; gated {gated['timers']}")  # fmt: skip
    p, g = median(plain_fps), median(gated_fps)
    print(f"{label}: median ungated {p:.1f} fps, gated {g:.1f} fps, ratio {g / p:.2f} "
          f"(target >= {target}); same events and line counts: {same}\n")  # fmt: skip


def still_frame_work(video: Path) -> None:
    """What a still frame costs the decode thread alone: decode, the motion test on the
    decoder's luma (what the gate does), and the BGR conversion a still frame no longer pays
    unless an output asks for its pixels."""
    from shigu.analytics.motion import MotionConfig, MotionDetector
    from shigu.sources import open_source

    frames = []
    started = time.perf_counter()
    for f in open_source(str(video)):
        frames.append(f)
        if len(frames) >= 600:
            break
    decode = (time.perf_counter() - started) / len(frames)
    gate = MotionDetector(MotionConfig(), (frames[0].width, frames[0].height))
    started = time.perf_counter()
    for f in frames:
        gate.update_frame(f)
    motion = (time.perf_counter() - started) / len(frames)
    started = time.perf_counter()
    for f in frames:
        _ = f.image
    bgr = (time.perf_counter() - started) / len(frames)
    print(f"outside the pipeline, per frame: decode {1000 * decode:.2f} ms, motion test (luma) "
          f"{1000 * motion:.2f} ms, BGR conversion when asked {1000 * bgr:.2f} ms\n")  # fmt: skip


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--idle-frames", type=int, default=1800)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        idle = idle_video(
            VIDEO, Path(tmp) / "idle.mp4", active=50, frozen=250, max_frames=args.idle_frames
        )
        still_frame_work(idle)
        compare(Path(tmp), idle, "idle", args.repeats, 3.0)
        compare(Path(tmp), VIDEO, "busy", args.repeats, 0.95)


if __name__ == "__main__":
    main()
