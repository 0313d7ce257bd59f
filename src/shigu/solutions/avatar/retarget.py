"""BlazePose world landmarks to the humanoid skeleton: bone lengths, local rotations against
the T-pose, root position, foot contact.

- Lengths: medians over the frames seen (constant bones; the height follows from them).
- Torso bones take a full frame from the body: the hips from the hip line and the spine, the
  chest from the shoulder line and the spine (the spine bone halfway between them), the head
  from the neck-to-head line and the nose. Limb bones take the smallest rotation (swing) that
  turns their rest direction, carried by the parent, onto the observed direction: no twist is
  invented where the landmarks carry none.
- Local rotation = parent's global rotation inverted, times the bone's global rotation.
- Root: BlazePose's world landmarks are centred on the hips, so the root comes from the image:
  across the picture from the hip centre's pixel position, its depth from the person's scale
  (pixels per metre of their own bones, a pinhole camera of 55 degrees horizontal field of
  view unless told otherwise), its height from the lowest foot (the floor at Y = 0).
- Foot contact: a foot is planted while it is within 3 cm of the floor and moves slower than
  0.25 m/s; while planted the root is shifted so the foot stays where it was planted (no
  sliding), and the shift is kept when it lifts (no jump).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from shigu.solutions.avatar.humanoid import (
    BONES,
    BY_NAME,
    L_ANKLE,
    L_HIP,
    L_KNEE,
    L_SHOULDER,
    R_ANKLE,
    R_HIP,
    R_KNEE,
    R_SHOULDER,
    REST_OFFSET_DIR,
    child_joint,
    joint_positions,
)

CONTACT_HEIGHT_M = 0.03
CONTACT_SPEED_M_S = 0.25
DEFAULT_HFOV_DEG = 55.0


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-9 else np.array([0.0, 1.0, 0.0])


def _perpendicular(hint: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The unit vector at right angles to unit ``y`` closest to ``hint``; when the hint gives
    no direction (hidden joints on top of each other), some right angle."""
    x = hint - np.dot(hint, y) * y
    if float(np.linalg.norm(x)) < 1e-9:
        axis = np.eye(3)[int(np.argmin(np.abs(y)))]
        x = axis - np.dot(axis, y) * y
    return _unit(x)


def _frame(x_hint: np.ndarray, y_axis: np.ndarray) -> Rotation:
    """The rotation whose columns are (x, y, z) with y exact and x as close to the hint."""
    y = _unit(y_axis)
    x = _perpendicular(x_hint, y)
    z = np.cross(x, y)
    return Rotation.from_matrix(np.column_stack([x, y, z]))


def _swing(a: np.ndarray, b: np.ndarray) -> Rotation:
    """The smallest rotation turning unit vector ``a`` onto unit vector ``b``."""
    a, b = _unit(a), _unit(b)
    axis = np.cross(a, b)
    s, c = float(np.linalg.norm(axis)), float(np.dot(a, b))
    if s < 1e-9:
        if c > 0:
            return Rotation.identity()
        ortho = np.cross(a, [1.0, 0.0, 0.0])
        if np.linalg.norm(ortho) < 1e-6:
            ortho = np.cross(a, [0.0, 1.0, 0.0])
        return Rotation.from_rotvec(_unit(ortho) * math.pi)
    return Rotation.from_rotvec(axis / s * math.atan2(s, c))


@dataclass
class Skeleton:
    """One person's rest skeleton: bone lengths and joint offsets (metres, avatar space)."""

    lengths: dict[str, float]
    offsets: dict[str, np.ndarray]
    height_m: float

    @classmethod
    def measure(cls, worlds: list[np.ndarray]) -> Skeleton:
        """From world landmarks of several frames (medians, so a bad frame does not count)."""
        if not worlds:
            raise ValueError("no frames to measure a skeleton from")
        joints = [joint_positions(w) for w in worlds]

        def length(a: str, b: str) -> float:
            return float(np.median([np.linalg.norm(j[b] - j[a]) for j in joints]))

        lengths = {b.name: length(b.name, child_joint(b.name)) for b in BONES}
        offsets: dict[str, np.ndarray] = {"Hips": np.zeros(3)}
        for bone in BONES[1:]:
            assert bone.parent is not None
            if bone.name in REST_OFFSET_DIR:
                d = np.array(REST_OFFSET_DIR[bone.name]) * length(bone.parent, bone.name)
                if bone.name.endswith("Shoulder"):  # the clavicles start where the neck does
                    d = np.array(BY_NAME["Chest"].rest) * lengths["Chest"]
                offsets[bone.name] = d
            else:
                parent = BY_NAME[bone.parent]
                offsets[bone.name] = np.array(parent.rest) * lengths[bone.parent]
        legs = np.mean([lengths["LeftUpperLeg"] + lengths["LeftLowerLeg"],
                        lengths["RightUpperLeg"] + lengths["RightLowerLeg"]])  # fmt: skip
        ankle_height = 0.08
        torso = lengths["Hips"] + lengths["Spine"] + lengths["Chest"]
        head = lengths["Neck"] + lengths["Head"] + 0.10  # ear centre to the top of the head
        return cls(lengths, offsets, float(legs + ankle_height + torso + head))


def global_rotations(joints: dict[str, np.ndarray]) -> dict[str, Rotation]:
    """Each bone's rotation from its rest orientation, in avatar space."""
    out: dict[str, Rotation] = {}
    up = joints["Neck"] - joints["Hips"]
    out["Hips"] = _frame(joints["LeftUpperLeg"] - joints["RightUpperLeg"], up)
    out["Chest"] = _frame(joints["LeftUpperArm"] - joints["RightUpperArm"],
                          joints["Neck"] - joints["Chest"])  # fmt: skip
    both = Rotation.concatenate([out["Hips"], out["Chest"]])
    out["Spine"] = Slerp([0.0, 1.0], both)([0.5])[0]
    for bone in BONES:
        if bone.name in out:
            continue
        assert bone.parent is not None
        parent = out[bone.parent]
        if bone.name == "Head":
            forward = joints["Nose"] - joints["Head"]
            y = _unit(joints["HeadEnd"] - joints["Head"])
            z = _perpendicular(forward, y)
            out["Head"] = Rotation.from_matrix(np.column_stack([np.cross(y, z), y, z]))
            continue
        carried = parent.apply(np.array(bone.rest))
        observed = joints[child_joint(bone.name)] - joints[bone.name]
        out[bone.name] = _swing(carried, observed) * parent
    return out


def local_rotations(global_rot: dict[str, Rotation]) -> dict[str, Rotation]:
    """Each bone's rotation relative to its parent (the root's is global)."""
    return {
        b.name: global_rot[b.name] if b.parent is None
        else global_rot[b.parent].inv() * global_rot[b.name]
        for b in BONES
    }  # fmt: skip


def forward_kinematics(
    skeleton: Skeleton, local: dict[str, Rotation], root: np.ndarray
) -> dict[str, np.ndarray]:
    """Joint positions from local rotations, offsets and the root position."""
    position: dict[str, np.ndarray] = {}
    rotation: dict[str, Rotation] = {}
    for bone in BONES:
        if bone.parent is None:
            rotation[bone.name] = local[bone.name]
            position[bone.name] = np.asarray(root, dtype=np.float64)
        else:
            rotation[bone.name] = rotation[bone.parent] * local[bone.name]
            offset = rotation[bone.parent].apply(skeleton.offsets[bone.name])
            position[bone.name] = position[bone.parent] + offset
    return position


@dataclass
class RootTracker:
    """The root's path through the room, from the image, with planted feet locked."""

    image_width: int
    hfov_deg: float = DEFAULT_HFOV_DEG
    _depth0: float | None = None
    _shift: np.ndarray = field(default_factory=lambda: np.zeros(3))
    _anchor: dict[str, np.ndarray] = field(default_factory=dict)
    _last_feet: dict[str, np.ndarray] = field(default_factory=dict)
    _last_t: float | None = None
    planted: dict[str, bool] = field(default_factory=lambda: {"Left": False, "Right": False})

    def _pixels_per_metre(self, pixels: np.ndarray, world: np.ndarray) -> float:
        pairs = [(L_SHOULDER, L_HIP), (R_SHOULDER, R_HIP), (L_HIP, L_KNEE), (R_HIP, R_KNEE),
                 (L_KNEE, L_ANKLE), (R_KNEE, R_ANKLE)]  # fmt: skip
        ratios = []
        for a, b in pairs:
            metres = float(np.linalg.norm(world[a, :2] - world[b, :2]))  # in the image plane
            if metres > 0.05:
                ratios.append(float(np.linalg.norm(pixels[a] - pixels[b])) / metres)
        return float(np.median(ratios)) if ratios else float("nan")

    def update(self, pixels: np.ndarray, world: np.ndarray, joints: dict[str, np.ndarray],
               feet: dict[str, np.ndarray], t: float) -> np.ndarray:  # fmt: skip
        """The root position for this frame (``feet``: foot positions relative to the hips)."""
        ppm = self._pixels_per_metre(pixels, world)
        focal = self.image_width / 2 / math.tan(math.radians(self.hfov_deg) / 2)
        hips_px = (pixels[L_HIP] + pixels[R_HIP]) / 2
        if not np.isfinite(ppm) or ppm <= 0:
            ppm = focal / 3.0  # nothing to measure: assume 3 m away
        depth = focal / ppm
        if self._depth0 is None:
            self._depth0 = depth
        x = (hips_px[0] - self.image_width / 2) / ppm
        lowest = min(float(f[1]) for f in feet.values())
        root = np.array([x, -lowest, -(depth - self._depth0)])
        dt = None if self._last_t is None else t - self._last_t
        for side, foot in feet.items():
            world_foot = root + self._shift + foot
            height = float(foot[1] - lowest)
            speed = np.inf
            if dt and dt > 0 and side in self._last_feet:
                speed = float(np.linalg.norm((world_foot - self._last_feet[side])[[0, 2]]) / dt)
            planted = height < CONTACT_HEIGHT_M and speed < CONTACT_SPEED_M_S
            if planted and not self.planted[side]:
                self._anchor[side] = world_foot.copy()
            if planted:
                drift = self._anchor[side] - world_foot
                self._shift[[0, 2]] += drift[[0, 2]]
                world_foot = world_foot + np.array([drift[0], 0.0, drift[2]])
            self.planted[side] = planted
            self._last_feet[side] = world_foot
        self._last_t = t
        return np.asarray(root + self._shift)
