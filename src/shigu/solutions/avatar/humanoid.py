"""The humanoid skeleton avatars use (VRM / Unity HumanBodyBones names) and where each joint
sits on BlazePose's 33 landmarks.

Avatar space is right-handed, metres, Y up; at rest (the T-pose) the person faces +Z with
their left hand towards +X. BlazePose's world landmarks (x to the image's right, y down, z away
from the camera, origin between the hips) map to it as (x, -y, -z) for a person facing the
camera.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# BlazePose landmark indices
NOSE, L_EAR, R_EAR = 0, 7, 8
L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST = 11, 12, 13, 14, 15, 16
L_PINKY, R_PINKY, L_INDEX, R_INDEX = 17, 18, 19, 20
L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE = 23, 24, 25, 26, 27, 28
L_HEEL, R_HEEL, L_FOOT, R_FOOT = 29, 30, 31, 32

BLAZEPOSE_TO_AVATAR = np.diag([1.0, -1.0, -1.0])


@dataclass(frozen=True)
class Bone:
    """One bone: its parent, and the direction to its child joint (or end) at rest."""

    name: str
    parent: str | None
    rest: tuple[float, float, float]  # unit direction from this joint to its child at rest


_FOOT = (0.0, -0.37, 0.93)  # ankle to toes, about 22 degrees down
BONES: tuple[Bone, ...] = (
    Bone("Hips", None, (0.0, 1.0, 0.0)),
    Bone("Spine", "Hips", (0.0, 1.0, 0.0)),
    Bone("Chest", "Spine", (0.0, 1.0, 0.0)),
    Bone("Neck", "Chest", (0.0, 1.0, 0.0)),
    Bone("Head", "Neck", (0.0, 1.0, 0.0)),
    Bone("LeftShoulder", "Chest", (1.0, 0.0, 0.0)),
    Bone("LeftUpperArm", "LeftShoulder", (1.0, 0.0, 0.0)),
    Bone("LeftLowerArm", "LeftUpperArm", (1.0, 0.0, 0.0)),
    Bone("LeftHand", "LeftLowerArm", (1.0, 0.0, 0.0)),
    Bone("RightShoulder", "Chest", (-1.0, 0.0, 0.0)),
    Bone("RightUpperArm", "RightShoulder", (-1.0, 0.0, 0.0)),
    Bone("RightLowerArm", "RightUpperArm", (-1.0, 0.0, 0.0)),
    Bone("RightHand", "RightLowerArm", (-1.0, 0.0, 0.0)),
    Bone("LeftUpperLeg", "Hips", (0.0, -1.0, 0.0)),
    Bone("LeftLowerLeg", "LeftUpperLeg", (0.0, -1.0, 0.0)),
    Bone("LeftFoot", "LeftLowerLeg", _FOOT),
    Bone("RightUpperLeg", "Hips", (0.0, -1.0, 0.0)),
    Bone("RightLowerLeg", "RightUpperLeg", (0.0, -1.0, 0.0)),
    Bone("RightFoot", "RightLowerLeg", _FOOT),
)
BONE_NAMES = tuple(b.name for b in BONES)
BY_NAME = {b.name: b for b in BONES}
CHILDREN = {b.name: tuple(c.name for c in BONES if c.parent == b.name) for b in BONES}

# Where a joint starts, relative to its parent joint, at rest: a unit direction (scaled by the
# measured distance). Bones whose joint is not at the end of their parent's bone list it here.
REST_OFFSET_DIR: dict[str, tuple[float, float, float]] = {
    "LeftUpperLeg": (1.0, 0.0, 0.0),  # hip joints beside the pelvis centre
    "RightUpperLeg": (-1.0, 0.0, 0.0),
    "LeftShoulder": (0.0, 1.0, 0.0),  # clavicles start at the base of the neck
    "RightShoulder": (0.0, 1.0, 0.0),
}


def joint_positions(world: np.ndarray) -> dict[str, np.ndarray]:
    """Avatar-space joint positions (and bone ends) from 33 BlazePose world landmarks."""
    p = np.asarray(world, dtype=np.float64) @ BLAZEPOSE_TO_AVATAR.T
    hips = (p[L_HIP] + p[R_HIP]) / 2
    neck = (p[L_SHOULDER] + p[R_SHOULDER]) / 2
    head = (p[L_EAR] + p[R_EAR]) / 2
    return {
        "Hips": hips,
        "Spine": hips + 0.25 * (neck - hips),
        "Chest": hips + 0.6 * (neck - hips),
        "Neck": neck,
        "Head": head,
        "HeadEnd": head + 0.12 * (head - neck) / max(float(np.linalg.norm(head - neck)), 1e-6),
        "Nose": p[NOSE],
        "LeftShoulder": neck,
        "LeftUpperArm": p[L_SHOULDER],
        "LeftLowerArm": p[L_ELBOW],
        "LeftHand": p[L_WRIST],
        "LeftHandEnd": (p[L_PINKY] + p[L_INDEX]) / 2,
        "RightShoulder": neck,
        "RightUpperArm": p[R_SHOULDER],
        "RightLowerArm": p[R_ELBOW],
        "RightHand": p[R_WRIST],
        "RightHandEnd": (p[R_PINKY] + p[R_INDEX]) / 2,
        "LeftUpperLeg": p[L_HIP],
        "LeftLowerLeg": p[L_KNEE],
        "LeftFoot": p[L_ANKLE],
        "LeftFootEnd": p[L_FOOT],
        "RightUpperLeg": p[R_HIP],
        "RightLowerLeg": p[R_KNEE],
        "RightFoot": p[R_ANKLE],
        "RightFootEnd": p[R_FOOT],
    }


def child_joint(name: str) -> str:
    """The joint a bone points at: its chain child, or its end."""
    chain = {
        "Hips": "Spine", "Spine": "Chest", "Chest": "Neck", "Neck": "Head", "Head": "HeadEnd",
        "LeftShoulder": "LeftUpperArm", "LeftUpperArm": "LeftLowerArm",
        "LeftLowerArm": "LeftHand", "LeftHand": "LeftHandEnd",
        "RightShoulder": "RightUpperArm", "RightUpperArm": "RightLowerArm",
        "RightLowerArm": "RightHand", "RightHand": "RightHandEnd",
        "LeftUpperLeg": "LeftLowerLeg", "LeftLowerLeg": "LeftFoot", "LeftFoot": "LeftFootEnd",
        "RightUpperLeg": "RightLowerLeg", "RightLowerLeg": "RightFoot",
        "RightFoot": "RightFootEnd",
    }  # fmt: skip
    return chain[name]
