"""BVH and VMC as others read them: the `bvh` package parses our files back, a raw UDP
receiver decodes every VMC bundle with python-osc."""

from __future__ import annotations

import socket

import numpy as np
import pytest
from bvh import Bvh
from pythonosc.osc_bundle import OscBundle
from scipy.spatial.transform import Rotation

from shigu.solutions.avatar.bvh import bvh_text
from shigu.solutions.avatar.humanoid import BONE_NAMES
from shigu.solutions.avatar.motion import PersonMotion
from shigu.solutions.avatar.vmc import VmcSender, frame_bundle
from tests.solutions.avatar.test_retarget import t_pose


def _walking(n: int = 40) -> PersonMotion:
    """A synthetic person swinging the left forearm and stepping, 30 fps, 640 px wide."""
    motion = PersonMotion(track_id=7, image_width=640)
    base = t_pose()
    for k in range(n):
        pose = base.copy()
        angle = 60 * np.sin(k / 6)
        elbow = pose[13]
        pose[15] = elbow + Rotation.from_euler("y", angle, degrees=True).apply(pose[15] - elbow)
        pose[17] = pose[19] = pose[15]
        landmarks = np.zeros((33, 3))
        landmarks[:, :2] = pose[:, :2] * 200 + [320 + 2 * k, 240]  # drifting right in the image
        landmarks[:, 2] = 1.0
        motion.add(k / 30, k, pose, landmarks)
    return motion


def test_bvh_parses_back_with_constant_bones_and_sane_angles() -> None:
    motion = _walking()
    frames = motion.all_frames()
    assert motion.skeleton is not None
    text = bvh_text(motion.skeleton, [*frames, None, None], 1 / 30)  # two unseen frames at the end
    parsed = Bvh(text)
    assert parsed.nframes == len(frames) + 2 and parsed.frame_time == pytest.approx(1 / 30, 1e-5)
    assert parsed.get_joints_names() == list(BONE_NAMES)
    assert parsed.frames[-1] == parsed.frames[-3]  # an unseen frame holds the last pose
    lengths = {name: np.linalg.norm(parsed.joint_offset(name)) for name in BONE_NAMES}
    assert lengths["LeftLowerArm"] == pytest.approx(28, abs=0.5)  # cm, the synthetic upper arm
    channels = parsed.frame_joint_channels(
        10, "LeftLowerArm", ["Zrotation", "Xrotation", "Yrotation"]
    )
    elbow = Rotation.from_euler("ZXY", channels, degrees=True)
    assert np.degrees(elbow.magnitude()) < 170  # inside a human elbow's range
    roots = np.array(
        [parsed.frame_joint_channels(i, "Hips", ["Xposition"]) for i in range(len(frames))]
    )
    assert roots[-1, 0] > roots[0, 0]  # the root moves across the room


def test_vmc_bundle_per_frame_with_every_bone() -> None:
    motion = _walking()
    frames = motion.all_frames()
    assert motion.skeleton is not None
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(2.0)
    sender = VmcSender("127.0.0.1", receiver.getsockname()[1])
    for f in frames[:5]:
        sender.send(motion.skeleton, f, f.time)
    for f in frames[:5]:
        datagram = receiver.recv(65536)
        assert OscBundle.dgram_is_bundle(datagram)  # one bundle per frame
        messages = [m for m in OscBundle(datagram)]
        addresses = [m.address for m in messages]
        assert addresses[0] == "/VMC/Ext/Root/Pos" and addresses[-2:] == [
            "/VMC/Ext/T",
            "/VMC/Ext/OK",
        ]
        bones = [m.params[0] for m in messages if m.address == "/VMC/Ext/Bone/Pos"]
        assert bones == list(BONE_NAMES)
        for m in messages[:-2]:
            assert isinstance(m.params[0], str) and len(m.params) == 8
            assert all(isinstance(v, float) for v in m.params[1:])
            q = np.array(m.params[4:8])
            assert np.linalg.norm(q) == pytest.approx(1.0, abs=1e-4)
        assert messages[-2].params == [pytest.approx(f.time, abs=1e-4)]
        assert messages[-1].params == [1, 3, 0, 1]
    receiver.close()
    assert frame_bundle(motion.skeleton, frames[0], 0.0).size > 0
