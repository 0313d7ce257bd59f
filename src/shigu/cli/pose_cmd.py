"""``shigu pose``: people's keypoints in a video, stream or image folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import typer

from shigu.cli._common import (
    check_output_path,
    console,
    default_outputs,
    device_option,
    max_frames_option,
    progress_option,
    require_images,
    save_option,
    split_out,
)
from shigu.cli._video_job import run_video_job
from shigu.cli.detect import SOURCE_HELP, print_report
from shigu.core.detections import Detections
from shigu.core.frame import Frame
from shigu.detect.factory import load_detector
from shigu.detect.stream import throughput_plan
from shigu.pipeline.graph import StageGraph
from shigu.sources.open import open_source
from shigu.stages import StageContext
from shigu.stages.secondary import SecondaryConfig
from shigu.track.factory import DEFAULT, create_tracker

HELP = """Estimate human pose: COCO-17 keypoints for every person the detector finds.

People are detected (and, in videos, tracked), then a pose model runs on each person's crop
as a secondary model. Writes a JSONL with a "pose" ([x, y, score] x 17) per person (--jsonl),
an annotated MP4 or, for image inputs, annotated images with skeletons (--out), and for image
inputs COCO keypoint results (--coco-json) for `shigu eval keypoints`. BlazePose adds
"pose_world": 33 landmarks in metres around the hips.

Examples:

  shigu pose video.mp4 --out skeletons.mp4 --jsonl poses.jsonl

  shigu pose images/ --model blazepose-full --coco-json poses.json --out annotated/

  shigu eval keypoints --gt person_keypoints_val2017.json --pred poses.json
"""


def pose(
    source: str = typer.Argument(..., help=SOURCE_HELP),
    model: str = typer.Option(
        "movenet-lightning",
        "--model",
        "-m",
        help="Pose model: movenet-lightning (fast) or blazepose-full (33 landmarks, 3D), "
        "or a .onnx path.",
    ),
    detector: str = typer.Option("yolox-nano", "--detector", help="Person detector."),
    conf: float = typer.Option(
        0.3, "--conf", min=0.0, max=1.0, help="Person detector threshold (0-1)."
    ),
    min_box: float = typer.Option(
        32.0, "--min-box", min=0.0, help="Skip people whose box's longer side is shorter (px)."
    ),
    track: bool | None = typer.Option(
        None, "--track/--no-track", help="Track people (default: on for video, off for images)."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Annotated MP4; for image inputs a folder of annotated images."
    ),
    jsonl: Path | None = typer.Option(None, "--jsonl", help="JSONL of people and their poses."),
    coco_json: Path | None = typer.Option(
        None, "--coco-json", help="COCO keypoint results (image inputs), for `shigu eval`."
    ),
    gt: Path | None = typer.Option(
        None, "--gt", help="COCO ground truth whose file names give --coco-json's image ids."
    ),
    device: str = device_option(),
    max_frames: int | None = max_frames_option(),
    progress: bool = progress_option(),
    save: bool = save_option("pose", "the annotated video (or images) and JSONL"),
) -> None:
    from shigu.eval.keypoints import image_id_for, pose_records, read_json
    from shigu.pose.models import check_pose_model

    check_pose_model(model)
    out, out_dir = split_out(out)
    check_output_path(out, (".mp4", ".mkv", ".mov"), "--out")
    check_output_path(jsonl, (".jsonl", ".json", ".ndjson"), "--jsonl")
    check_output_path(coco_json, (".json",), "--coco-json")
    by_name: dict[str, int] | None = None
    if gt is not None:
        truth = read_json(gt, "ground truth")
        by_name = {im["file_name"]: im["id"] for im in truth.get("images", [])}
    workers, threads = throughput_plan(device)
    det = load_detector(detector, device=device, conf=conf, classes="person", threads=threads)
    sec = SecondaryConfig(model=model, classes=["person"], min_box=min_box, device=device)
    graph = StageGraph.build([sec], [], StageContext(det.labels, device))
    src = open_source(source)
    images = bool(getattr(src, "paths", None))
    if coco_json is not None and not images:
        from shigu.core.errors import InputError

        raise InputError("--coco-json needs image inputs (a folder, a glob or an image)")
    if save and out is None and out_dir is None and jsonl is None and coco_json is None:
        chosen = default_outputs("pose", source, src)
        out, out_dir, jsonl = chosen.get("out"), chosen.get("out_dir"), chosen["jsonl"]
        console.print(f"saving to {jsonl.parent}/ (--no-save to skip)", highlight=False)
    require_images(src, out_dir)
    tracker = None
    if track if track is not None else not images:
        tracker = create_tracker(DEFAULT, src.output_fps or 30.0)
    results: list[dict[str, Any]] = []
    people = [0, 0]  # people, people with a pose

    def collect(frame: Frame, dets: Detections, path: Path | None) -> None:
        poses = dets.data.get("pose")
        people[0] += len(dets)
        if poses is None:
            return
        people[1] += int(np.isfinite(poses).all(axis=(1, 2)).sum())
        if coco_json is not None:
            image_id = image_id_for(path or f"{frame.index}", frame.index, by_name)
            score = dets.confidence * np.nan_to_num(poses[:, :, 2].mean(axis=1))
            results.extend(pose_records(image_id, poses, score))

    report = run_video_job(
        src,
        det,
        workers=workers,
        tracker=tracker,
        out=out,
        jsonl=jsonl,
        max_frames=max_frames,
        show_progress=progress,
        description="pose",
        out_dir=out_dir,
        graph=graph,
        on_frame=collect,
    )
    graph.close()
    if coco_json is not None:
        coco_json.parent.mkdir(parents=True, exist_ok=True)
        coco_json.write_text(json.dumps(results), encoding="utf-8")
        report.outputs["COCO keypoints"] = f"{coco_json} ({len(results)} people)"
    print_report(report, "pose")
    stats = graph.summary().get("pose", {})
    per_crop = 1000 * stats.get("seconds", 0.0) / max(1, stats.get("crops", 0))
    console.print(
        f"poses for {people[1]} of {people[0]} people; pose model {per_crop:.1f} ms per person",
        highlight=False,
    )
    if report.interrupted:
        raise typer.Exit(130)
    if report.truncated is not None:
        raise report.truncated


def register(app: typer.Typer) -> None:
    app.command("pose", help=HELP, no_args_is_help=True)(pose)
