"""Privacy masks on PETS2009 S2L1: leakage against MOT15 ground truth, and what masking costs.

Leakage: the pipeline (yolox-nano, ByteTrack, the `privacy` stage) runs over the video; each
frame as the outputs see it is compared with the decoded original. A ground-truth person
(MOT15 boxes scaled by 0.625 to the 480x360 video) counts as visible in a frame when under
80% of their box (whole persons) or of its top fifth (faces) changed. Reported: the share of
frames with a visible person, over all people and over tracked ones (target: 0% tracked).

Cost: pipeline fps without the stage and with it (blur), median of --repeats runs back to
back; target: masking costs at most 10% of the throughput.

Usage: python benchmarks/privacy.py [--frames 795] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path
from typing import Any

import av
import numpy as np

from _common import DATA, machine
from shigu.eval.privacy import Leakage
from shigu.pipeline import Pipeline, parse_config

VIDEO = DATA / "video" / "pets2009_s2l1_vtest_480x360.avi"
GT = DATA / "mot" / "MOT15" / "PETS09-S2L1" / "gt" / "gt.txt"
SCALE = 0.625


def ground_truth() -> dict[int, np.ndarray]:
    """0-based frame index -> (n, 4) xyxy people in the 480x360 video."""
    rows = np.loadtxt(GT, delimiter=",")
    out: dict[int, list[list[float]]] = {}
    for r in rows:
        x, y, w, h = (r[2:6] * SCALE).tolist()
        out.setdefault(int(r[0]) - 1, []).append([x, y, x + w, y + h])
    return {k: np.array(v) for k, v in out.items()}


def config(tmp: Path, privacy: dict[str, Any] | None) -> Any:
    stages = [{"use": "privacy", "options": privacy}] if privacy is not None else []
    return parse_config({
        "sources": [{"id": "gate", "uri": str(VIDEO)}],
        "pipeline": {"detector": {"classes": ["person"]}, "stages": stages},
        "store": {"url": f"sqlite:///{tmp}/p.db", "media_dir": str(tmp / "media")},
        "media": {"snapshots": False},
    })  # fmt: skip


def originals(frames: int) -> list[np.ndarray]:
    with av.open(str(VIDEO)) as c:
        out = []
        for f in c.decode(video=0):
            out.append(f.to_ndarray(format="bgr24"))
            if len(out) >= frames:
                break
    return out


def leakage(options: dict[str, Any], frames: int, tmp: Path) -> dict[str, float]:
    """Leakage of one privacy setting over the first ``frames`` frames."""
    gt = ground_truth()
    source = originals(frames)
    region = "face" if options.get("mask", "faces") == "faces" else "person"
    result = Leakage()
    index = 0

    def check(_sid: str, image: np.ndarray, dets: Any) -> None:
        nonlocal index
        if index < len(source):
            result.add(index, source[index], image, gt.get(index, np.zeros((0, 4))),
                       dets.xyxy, region)  # fmt: skip
        index += 1

    Pipeline(config(tmp, options), max_frames=frames, on_frame=check).run()
    return result.summary()


def fps(options: dict[str, Any] | None, frames: int, tmp: Path) -> float:
    summary = Pipeline(config(tmp, options), max_frames=frames).run()
    return float(summary["fps"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=795)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        print(f"leakage over {args.frames} frames (a person is visible when < 80% of the "
              "region changed)")  # fmt: skip
        for mask in ("persons", "faces"):
            s = leakage(
                {"mask": mask, "style": "fill", "colour": (255, 0, 255)}, args.frames, Path(tmp)
            )  # magenta: no pixel of the video has it
            print(f"  mask {mask:<8} frames with a visible tracked person "
                  f"{100 * s['frames_with_visible_tracked_person']:.2f}%, with any visible "
                  f"person {100 * s['frames_with_visible_person']:.2f}%; person-frames visible: "
                  f"tracked {100 * s['tracked_person_frames_visible']:.2f}%, all "
                  f"{100 * s['person_frames_visible']:.2f}%")  # fmt: skip
        print(f"\nthroughput, median of {args.repeats} (back to back)")
        settings: dict[str, dict[str, Any] | None] = {
            "no masks": None,
            "persons, blur": {"mask": "persons"},
            "faces, blur": {"mask": "faces"},
            "faces, blur + YuNet every 5th": {"mask": "faces", "face_detector": "yunet-face"},
        }
        runs: dict[str, list[float]] = {k: [] for k in settings}
        for _ in range(args.repeats):
            for name, options in settings.items():
                runs[name].append(fps(options, args.frames, Path(tmp)))
        base = statistics.median(runs["no masks"])
        for name, values in runs.items():
            m = statistics.median(values)
            print(f"  {name:<32} {m:6.1f} fps  cost {100 * (1 - m / base):5.1f}%")


if __name__ == "__main__":
    main()
