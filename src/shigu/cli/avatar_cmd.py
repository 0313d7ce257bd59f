"""``shigu avatar``: people's movement onto a humanoid skeleton (BVH, live VMC, JSONL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.markup import escape

from shigu.cli._common import (
    check_output_path,
    console,
    device_option,
    max_frames_option,
    progress_option,
)
from shigu.core.errors import InputError

HELP = """Put people's movement from a video, webcam or stream on an avatar skeleton.

People are detected (yolox-nano), tracked, and posed by BlazePose full (33 landmarks with 3D
world landmarks) as a secondary model; each person's landmarks are smoothed over time (One Euro
filter), retargeted onto the VRM / Unity humanoid bones (Hips, Spine, Chest, Neck, Head,
shoulders, arms, hands, legs, feet) as local rotations against a T-pose, with the root's path
from the image and planted feet locked (docs/avatar.md).

Outputs:
  --bvh out.bvh       BVH: the skeleton's rest pose in the OFFSETs, one MOTION frame per video
                      frame at the video's frame time (centimetres, Y up)
  --vmc HOST:PORT     the VMC protocol over OSC/UDP, one bundle per frame, live (VSeeFace,
                      VMC-capable VTuber apps and Unity receivers)
  --jsonl out.jsonl   per frame and person: root, world joints (m) and bone rotations

With --all-people every tracked person gets their own BVH (out_<track>.bvh) and VMC port
(PORT + n); otherwise the person seen longest is used.

Examples:
  shigu avatar dance.mp4 --bvh dance.bvh
  shigu avatar 0 --vmc 127.0.0.1:39539          (webcam 0 to a VMC receiver)
  shigu avatar rtsp://cam/stream --vmc 192.168.1.20:39539 --all-people
"""


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"--vmc {text!r} is not HOST:PORT", "give e.g. --vmc 127.0.0.1:39539")
    return host, int(port)


def avatar(
    source: str = typer.Argument(..., help="Video file, webcam index, or stream URL."),
    bvh: Path | None = typer.Option(None, "--bvh", help="Write the motion as BVH."),
    vmc: str | None = typer.Option(None, "--vmc", help="Stream VMC to HOST:PORT (UDP)."),
    jsonl: Path | None = typer.Option(None, "--jsonl", help="Write joints and rotations."),
    all_people: bool = typer.Option(
        False, "--all-people", help="Every tracked person, not only the one seen longest."
    ),
    smooth: bool = typer.Option(True, "--smooth/--no-smooth", help="One Euro smoothing."),
    hfov: float = typer.Option(
        55.0, "--hfov", min=10.0, max=170.0, help="Camera's horizontal field of view (deg)."
    ),
    conf: float = typer.Option(0.3, "--conf", min=0.0, max=1.0, help="Person threshold."),
    device: str = device_option(),
    max_frames: int | None = max_frames_option(),
    progress: bool = progress_option(),
) -> None:
    from shigu.solutions.avatar.capture import capture
    from shigu.solutions.avatar.motion import PersonMotion
    from shigu.sources.open import open_source

    if bvh is None and vmc is None and jsonl is None:
        raise InputError("nothing to write", "give --bvh FILE, --vmc HOST:PORT or --jsonl FILE")
    check_output_path(bvh, (".bvh",), "--bvh")
    check_output_path(jsonl, (".jsonl", ".ndjson"), "--jsonl")
    target = _address(vmc) if vmc else None
    src = open_source(source)
    if getattr(src, "paths", None):
        raise InputError(f"{source} is a set of images", "give a video, a webcam or a stream")
    senders: dict[int, Any] = {}
    sent_upto: dict[int, int] = {}
    people: dict[int, PersonMotion] = {}

    def live(motion: PersonMotion) -> None:
        from shigu.solutions.avatar.vmc import VmcSender

        assert target is not None
        longest = max(people.values(), key=lambda m: len(m.worlds))
        if not all_people and motion is not longest:
            return
        if motion.track_id not in senders:
            port = target[1] + (len(senders) if all_people else 0)
            senders[motion.track_id] = VmcSender(target[0], port)
        if not motion.ready:
            return
        start = sent_upto.get(motion.track_id, -1) + 1
        for i in range(start, len(motion.worlds)):
            frame = motion.frame_at(i)
            assert motion.skeleton is not None
            senders[motion.track_id].send(motion.skeleton, frame, frame.time)
        sent_upto[motion.track_id] = len(motion.worlds) - 1

    def on_person(motion: PersonMotion) -> None:
        people[motion.track_id] = motion
        if target is not None:
            live(motion)

    seen = capture(
        src,
        conf=conf,
        device=device,
        smooth=smooth,
        hfov_deg=hfov,
        max_frames=max_frames,
        show_progress=progress,
        on_person=on_person,
    )
    report = seen.report
    chosen = seen.longest(None if all_people else 1)
    if not chosen:
        raise InputError(
            f"no person was seen long enough in {source} (needs 15 frames with a pose)",
            "check that a person is in view and large enough (--conf to find more people)",
        )
    # the container's nominal rate can be rounded (30 for 29.53): the frames' own times decide
    _write_outputs(chosen, len(seen.stamps), seen.frame_time, bvh, jsonl, all_people)
    heights = ", ".join(
        f"track {m.track_id}: {len(m.worlds)} frames, {m.skeleton.height_m:.2f} m"
        for m in chosen
        if m.skeleton is not None
    )
    console.print(f"{report.frames} frames; {heights}", highlight=False)
    for name, sender in senders.items():
        console.print(f"VMC: {sender.sent} bundles for track {name} to {vmc}", highlight=False)
    if report.interrupted:
        raise typer.Exit(130)


def _write_outputs(chosen: list[Any], n_frames: int, frame_time: float, bvh: Path | None,
                   jsonl: Path | None, all_people: bool) -> None:  # fmt: skip
    from shigu.io.jsonl import JsonlWriter
    from shigu.solutions.avatar.bvh import write_bvh

    records: list[dict[str, Any]] = []
    for k, motion in enumerate(chosen):
        frames = motion.all_frames()
        assert motion.skeleton is not None
        per_video_frame: list[Any] = [None] * n_frames
        for f in frames:
            if 0 <= f.frame < n_frames:
                per_video_frame[f.frame] = f
        if bvh is not None:
            path = bvh if k == 0 and not all_people else bvh.with_name(
                f"{bvh.stem}_{motion.track_id}{bvh.suffix}")  # fmt: skip
            write_bvh(path, motion.skeleton, per_video_frame, frame_time)
            console.print(f"wrote {escape(str(path))} ({n_frames} frames)", highlight=False)
        for f in frames:
            records.append({
                "frame": f.frame, "time": round(f.time, 6), "track_id": motion.track_id,
                "root": np.round(f.root, 4).tolist(),
                "joints": {k2: np.round(v + f.root, 4).tolist() for k2, v in
                           f.world_joints.items()},
                "rotations": {b: np.round(r.as_quat(), 6).tolist() for b, r in f.local.items()},
                "planted": f.planted,
            })  # fmt: skip
    if jsonl is not None:
        records.sort(key=lambda r: (r["frame"], r["track_id"]))  # frame order, as every JSONL
        with JsonlWriter(jsonl) as writer:
            for record in records:
                writer.write(record)
        console.print(f"wrote {escape(str(jsonl))} ({len(records)} lines)", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("avatar", help=HELP, no_args_is_help=True)(avatar)
