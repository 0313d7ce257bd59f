"""The VMC protocol (Virtual Motion Capture, over OSC/UDP) as its receivers expect it: one
bundle per frame holding ``/VMC/Ext/Root/Pos``, a ``/VMC/Ext/Bone/Pos`` per humanoid bone,
``/VMC/Ext/T`` and ``/VMC/Ext/OK``.

VMC speaks Unity's space: left-handed, Y up, the avatar facing +Z with its right hand towards
+X. Our right-handed avatar space (left hand towards +X) maps to it by mirroring X: positions
(-x, y, z), quaternions (x, -y, -z, w). Bone names are Unity's HumanBodyBones; positions are
each bone's local offset (m), rotations its local rotation; the root message carries the
person's position in the room (its rotation is identity: the Hips bone carries the turn).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shigu.solutions.avatar.humanoid import BONES
from shigu.solutions.avatar.motion import SkeletonFrame
from shigu.solutions.avatar.retarget import Skeleton


def to_unity(position: np.ndarray, quaternion_xyzw: np.ndarray) -> tuple[list[float], list[float]]:
    p = [-float(position[0]), float(position[1]), float(position[2])]
    q = quaternion_xyzw
    return p, [float(q[0]), -float(q[1]), -float(q[2]), float(q[3])]


def frame_bundle(skeleton: Skeleton, frame: SkeletonFrame, t: float) -> Any:
    """The OSC bundle of one frame."""
    from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
    from pythonosc.osc_message_builder import OscMessageBuilder

    def message(address: str, *args: Any) -> Any:
        builder = OscMessageBuilder(address=address)
        for arg in args:
            builder.add_arg(arg)
        return builder.build()

    bundle = OscBundleBuilder(IMMEDIATELY)
    # the root carries where the person is; the hips bone how they are turned
    position, rotation = to_unity(frame.root, np.array([0.0, 0.0, 0.0, 1.0]))
    bundle.add_content(message("/VMC/Ext/Root/Pos", "root", *position, *rotation))
    for bone in BONES:
        offset = skeleton.offsets[bone.name] if bone.parent else np.zeros(3)
        p, q = to_unity(offset, frame.local[bone.name].as_quat())
        bundle.add_content(message("/VMC/Ext/Bone/Pos", bone.name, *p, *q))
    bundle.add_content(message("/VMC/Ext/T", float(t)))
    bundle.add_content(message("/VMC/Ext/OK", 1, 3, 0, 1))  # loaded, calibrated, normal, tracking
    return bundle.build()


class VmcSender:
    """Sends frames to one receiver (HOST:PORT over UDP)."""

    def __init__(self, host: str, port: int) -> None:
        from pythonosc.udp_client import UDPClient

        self.client = UDPClient(host, port)
        self.sent = 0

    def send(self, skeleton: Skeleton, frame: SkeletonFrame, t: float) -> None:
        self.client.send(frame_bundle(skeleton, frame, t))
        self.sent += 1
