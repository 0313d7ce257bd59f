"""BVH (Biovision Hierarchy) files: the humanoid skeleton with its rest pose (a T-pose) in the
OFFSETs, then one MOTION frame per video frame at the video's frame time.

Units are centimetres (what Blender, MotionBuilder and most BVH tools assume); Y up; the root
has Xposition Yposition Zposition Zrotation Xrotation Yrotation, every other joint Zrotation
Xrotation Yrotation (intrinsic Z, then X, then Y: the conventional order). Frames where the
person was not seen repeat the last pose, so the frame count matches the video's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from shigu.io.atomic import atomic_write
from shigu.solutions.avatar.humanoid import BONES, BY_NAME, CHILDREN
from shigu.solutions.avatar.motion import SkeletonFrame
from shigu.solutions.avatar.retarget import Skeleton

CM = 100.0


def _hierarchy(skeleton: Skeleton) -> list[str]:
    lines: list[str] = ["HIERARCHY"]

    def joint(name: str, depth: int) -> None:
        pad = "\t" * depth
        offset = skeleton.offsets[name] * CM
        head = "ROOT" if BY_NAME[name].parent is None else "JOINT"
        lines.append(f"{pad}{head} {name}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}\tOFFSET {offset[0]:.4f} {offset[1]:.4f} {offset[2]:.4f}")
        if head == "ROOT":
            lines.append(f"{pad}\tCHANNELS 6 Xposition Yposition Zposition "
                         "Zrotation Xrotation Yrotation")  # fmt: skip
        else:
            lines.append(f"{pad}\tCHANNELS 3 Zrotation Xrotation Yrotation")
        children = CHILDREN[name]
        if children:
            for child in children:
                joint(child, depth + 1)
        else:
            end = np.array(BY_NAME[name].rest) * skeleton.lengths[name] * CM
            lines.append(f"{pad}\tEnd Site")
            lines.append(f"{pad}\t{{")
            lines.append(f"{pad}\t\tOFFSET {end[0]:.4f} {end[1]:.4f} {end[2]:.4f}")
            lines.append(f"{pad}\t}}")
        lines.append(f"{pad}}}")

    joint(BONES[0].name, 0)
    return lines


def _order() -> list[str]:
    """Joints in the order their channels appear (depth first, as written)."""
    out: list[str] = []

    def walk(name: str) -> None:
        out.append(name)
        for child in CHILDREN[name]:
            walk(child)

    walk(BONES[0].name)
    return out


def bvh_text(skeleton: Skeleton, frames: Sequence[SkeletonFrame | None], frame_time: float) -> str:
    """The BVH file; ``frames`` has one entry per video frame (None: not seen, hold)."""
    if frame_time <= 0:
        raise ValueError("frame time must be positive")
    order = _order()
    lines = _hierarchy(skeleton)
    lines += ["MOTION", f"Frames: {len(frames)}", f"Frame Time: {frame_time:.6f}"]
    last: SkeletonFrame | None = next((f for f in frames if f is not None), None)
    for frame in frames:
        if frame is not None:
            last = frame
        if last is None:
            break
        values = list(np.asarray(last.root) * CM)
        for name in order:
            z, x, y = last.local[name].as_euler("ZXY", degrees=True)
            values += [z, x, y]
        lines.append(" ".join(f"{v:.4f}" for v in values))
    return "\n".join(lines) + "\n"


def write_bvh(path: Path, skeleton: Skeleton, frames: Sequence[SkeletonFrame | None],
              frame_time: float) -> None:  # fmt: skip
    atomic_write(path, bvh_text(skeleton, frames, frame_time).encode())
