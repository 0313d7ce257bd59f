"""Run inside Blender (blender -b --python THIS -- FILE.bvh): import a BVH with Blender's own
importer and print what it made: bones, frames, fps, bone-length spread, largest limb flexion."""

import builtins
import json
import sys

import bpy

_open = builtins.open


def _open_without_u(file, mode="r", *args, **kwargs):  # Blender 3.4's importer asks for "rU",
    return _open(file, mode.replace("U", ""), *args, **kwargs)  # which Python 3.11 refuses


builtins.open = _open_without_u
path = sys.argv[sys.argv.index("--") + 1]
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_anim.bvh(filepath=path, update_scene_fps=True, update_scene_duration=True)
arm = next(o for o in bpy.data.objects if o.type == "ARMATURE")
scene = bpy.context.scene
action = arm.animation_data.action
start, end = action.frame_range
lengths, angles = {}, []
pairs = [
    ("LeftUpperLeg", "LeftLowerLeg"),
    ("RightUpperLeg", "RightLowerLeg"),
    ("LeftUpperArm", "LeftLowerArm"),
    ("RightUpperArm", "RightLowerArm"),
]
for frame in range(int(start), int(end) + 1):
    scene.frame_set(frame)
    for bone in arm.pose.bones:
        lengths.setdefault(bone.name, []).append((bone.tail - bone.head).length)
    for a, b in pairs:
        da = arm.pose.bones[a].tail - arm.pose.bones[a].head
        db = arm.pose.bones[b].tail - arm.pose.bones[b].head
        angles.append(da.angle(db) * 57.29578)
spread = max(max(v) - min(v) for v in lengths.values())
print(
    "RESULT "
    + json.dumps(
        {
            "bones": [b.name for b in arm.data.bones],
            "frames": int(end - start + 1),
            "fps": scene.render.fps / scene.render.fps_base,
            "length_spread": spread,
            "max_flexion_deg": max(angles),
        }
    )
)
