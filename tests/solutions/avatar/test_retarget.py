"""Retargeting on synthetic poses whose answer is known: the T-pose is the rest pose, a bent
elbow bends one joint, forward kinematics gives the joints back."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from shigu.solutions.avatar.humanoid import BLAZEPOSE_TO_AVATAR, BONE_NAMES, joint_positions
from shigu.solutions.avatar.one_euro import OneEuroFilter
from shigu.solutions.avatar.retarget import (
    Skeleton,
    forward_kinematics,
    global_rotations,
    local_rotations,
)


def t_pose() -> np.ndarray:
    """33 BlazePose world landmarks (x right in the image, y down, z away) of a T-pose facing
    the camera: the person's left is the image's right (+x)."""
    a = np.zeros((33, 3))
    avatar = {  # in avatar space (left +X, up +Y, forward +Z), then mapped to BlazePose's
        0: (0, 0.62, 0.10), 7: (0.07, 0.62, 0), 8: (-0.07, 0.62, 0),
        11: (0.18, 0.50, 0), 12: (-0.18, 0.50, 0), 13: (0.46, 0.50, 0), 14: (-0.46, 0.50, 0),
        15: (0.72, 0.50, 0), 16: (-0.72, 0.50, 0), 17: (0.80, 0.50, 0), 18: (-0.80, 0.50, 0),
        19: (0.80, 0.50, 0), 20: (-0.80, 0.50, 0),
        23: (0.09, 0, 0), 24: (-0.09, 0, 0), 25: (0.09, -0.44, 0), 26: (-0.09, -0.44, 0),
        27: (0.09, -0.86, 0), 28: (-0.09, -0.86, 0),
        31: (0.09, -0.86 - 0.37 * 0.2, 0.93 * 0.2), 32: (-0.09, -0.86 - 0.37 * 0.2, 0.93 * 0.2),
    }  # fmt: skip
    for i, p in avatar.items():
        a[i] = BLAZEPOSE_TO_AVATAR.T @ np.array(p, dtype=float)
    return a


def test_t_pose_is_the_rest_pose() -> None:
    local = local_rotations(global_rotations(joint_positions(t_pose())))
    assert set(local) == set(BONE_NAMES)
    for name, rotation in local.items():
        assert rotation.magnitude() < 1e-6, name


def test_bent_elbow_turns_only_the_forearm() -> None:
    pose = t_pose()
    elbow, wrist = pose[13], pose[15]
    bent = Rotation.from_euler("y", 90, degrees=True).apply(wrist - elbow)  # forearm forward
    pose[15] = elbow + bent
    pose[17] = pose[19] = pose[15] + (pose[15] - elbow) * 0.3
    local = local_rotations(global_rotations(joint_positions(pose)))
    assert np.degrees(local["LeftLowerArm"].magnitude()) == pytest.approx(90, abs=1e-4)
    for name in ("LeftUpperArm", "RightLowerArm", "Hips", "Chest"):
        assert local[name].magnitude() < 1e-6, name


def test_forward_kinematics_gives_the_joints_back() -> None:
    rng = np.random.default_rng(0)
    pose = t_pose() + rng.normal(0, 0.03, (33, 3))  # an arbitrary, slightly off pose
    skeleton = Skeleton.measure([pose])
    joints = joint_positions(pose)
    local = local_rotations(global_rotations(joints))
    positions = forward_kinematics(skeleton, local, joints["Hips"])
    for name in ("LeftLowerArm", "LeftHand", "RightHand", "LeftFoot", "RightFoot"):
        # limb joints follow exactly from the limb rotations; the torso only approximately
        assert np.linalg.norm(positions[name] - joints[name]) < 0.06, name
    assert 1.4 < skeleton.height_m < 2.1


def test_one_euro_quiets_noise_and_follows_motion() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(300) / 30.0
    still = rng.normal(0, 0.01, (300, 3))
    f = OneEuroFilter()
    smoothed = np.array([f(x, ti) for x, ti in zip(still, t, strict=True)])
    accel = lambda x: np.abs(np.diff(x, 2, axis=0)).mean()  # noqa: E731
    assert accel(still) / accel(smoothed[30:]) > 5
    ramp = np.stack([t, np.zeros_like(t), np.zeros_like(t)], axis=1)  # 1 m/s
    f = OneEuroFilter()
    followed = np.array([f(x, ti) for x, ti in zip(ramp, t, strict=True)])
    lag_s = float(np.mean(ramp[60:, 0] - followed[60:, 0]))  # metres behind at 1 m/s
    assert lag_s < 1 / 30  # under one frame
    f = OneEuroFilter()
    f(np.array([1.0, 2.0]), 0.0)
    held = f(np.array([np.nan, 3.0]), 1 / 30)
    assert held[0] == 1.0 and np.isfinite(held[1])  # a missing value holds the last estimate


def test_hidden_joints_give_finite_rotations_not_an_error() -> None:
    """Landmarks never seen are zeros after the filter: both hips on the origin (and, worse,
    the whole body) must still give proper rotations, as the first frames of a clip may."""
    pose = t_pose()
    pose[[23, 24]] = 0.0
    for world in (pose, np.zeros((33, 3))):
        local = local_rotations(global_rotations(joint_positions(world)))
        assert set(local) == set(BONE_NAMES)
        for rotation in local.values():
            assert np.isfinite(rotation.as_quat()).all()


def test_a_landmark_never_seen_keeps_the_models_guess_and_a_seen_one_is_held() -> None:
    from shigu.solutions.avatar.motion import PersonMotion

    motion = PersonMotion(1, 640, smooth=True)
    pose = t_pose()
    marks = np.zeros((33, 3))
    marks[:, 2] = 1.0
    marks[15, 2] = 0.1  # left wrist hidden from the start
    motion.add(0.0, 0, pose, marks)
    np.testing.assert_allclose(motion.worlds[0][15], pose[15])  # the guess, not the hips
    marks[15, 2] = 1.0
    motion.add(0.04, 1, pose, marks)
    moved = pose.copy()
    moved[15] += 0.5
    marks[15, 2] = 0.1  # hidden again: held where it was last seen
    motion.add(0.08, 2, moved, marks)
    np.testing.assert_allclose(motion.worlds[2][15], motion.worlds[1][15])
