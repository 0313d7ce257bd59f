"""One person's motion: smoothed landmarks over time turned into skeleton frames."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation

from shigu.solutions.avatar.humanoid import joint_positions
from shigu.solutions.avatar.one_euro import OneEuroFilter
from shigu.solutions.avatar.retarget import (
    RootTracker,
    Skeleton,
    global_rotations,
    local_rotations,
)

MIN_VISIBILITY = 0.5  # landmarks below it are held at their last smoothed position
CALIBRATION_FRAMES = 15  # frames measured before live output starts


@dataclass
class SkeletonFrame:
    """The skeleton at one instant: root position (m) and local rotations per bone."""

    time: float
    frame: int
    root: np.ndarray
    local: dict[str, Rotation]
    world_joints: dict[str, np.ndarray]  # smoothed joint positions around the hips
    planted: dict[str, bool]


@dataclass
class PersonMotion:
    """Collects one track's poses, smooths them, and retargets them."""

    track_id: int
    image_width: int
    hfov_deg: float = 55.0
    smooth: bool = True
    times: list[float] = field(default_factory=list)
    frames: list[int] = field(default_factory=list)
    worlds: list[np.ndarray] = field(default_factory=list)
    pixels: list[np.ndarray] = field(default_factory=list)
    raw_worlds: list[np.ndarray] = field(default_factory=list)
    skeleton: Skeleton | None = None

    def __post_init__(self) -> None:
        self._world_filter = OneEuroFilter()
        self._pixel_filter = OneEuroFilter()
        self._seen = np.zeros(33, dtype=bool)
        self._root = RootTracker(self.image_width, self.hfov_deg)

    def add(self, t: float, frame: int, world: np.ndarray, landmarks: np.ndarray) -> None:
        """One observation: 33 world landmarks (m) and 33 image landmarks (x, y, visibility)."""
        world = np.asarray(world, dtype=np.float64).copy()
        pixels = np.asarray(landmarks[:, :2], dtype=np.float64).copy()
        hidden = landmarks[:, 2] < MIN_VISIBILITY
        # The filter holds a hidden landmark at its last estimate; one never seen yet has
        # none, so it keeps the model's own guess (at the hips, where NaN would put it, an
        # arm hidden behind the body from the first frame folds back on itself).
        held = hidden & self._seen
        self._seen |= ~hidden
        world[held] = np.nan
        pixels[held] = np.nan
        self.raw_worlds.append(np.asarray(world))
        if self.smooth:
            world = self._world_filter(world, t)
            pixels = self._pixel_filter(pixels, t)
        self.times.append(t)
        self.frames.append(frame)
        self.worlds.append(world)
        self.pixels.append(pixels)

    @property
    def ready(self) -> bool:
        return len(self.worlds) >= CALIBRATION_FRAMES

    def calibrate(self) -> Skeleton:
        usable = [w for w in self.worlds if np.isfinite(w).all()] or self.worlds
        self.skeleton = Skeleton.measure(usable)
        return self.skeleton

    def frame_at(self, i: int) -> SkeletonFrame:
        """The skeleton for observation ``i`` (call in time order: the root tracker keeps
        foot contacts)."""
        if self.skeleton is None:
            self.calibrate()
        world = np.nan_to_num(self.worlds[i])
        joints = joint_positions(world)
        local = local_rotations(global_rotations(joints))
        feet = {"Left": joints["LeftFootEnd"] - joints["Hips"],
                "Right": joints["RightFootEnd"] - joints["Hips"]}  # fmt: skip
        pixels = np.where(np.isfinite(self.pixels[i]), self.pixels[i], 0.0)
        root = self._root.update(pixels, world, joints, feet, self.times[i])
        return SkeletonFrame(self.times[i], self.frames[i], root, local, joints,
                             dict(self._root.planted))  # fmt: skip

    def all_frames(self) -> list[SkeletonFrame]:
        self.calibrate()
        self._root = RootTracker(self.image_width, self.hfov_deg)
        return [self.frame_at(i) for i in range(len(self.worlds))]
