"""``shigu detect``: run a detector over a video, stream, webcam or image folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from shigu.cli._common import (
    check_output_path,
    console,
    count_table,
    default_outputs,
    device_option,
    max_frames_option,
    overlap_option,
    progress_option,
    require_images,
    save_option,
    slice_config,
    slice_full_option,
    slice_merge_option,
    slice_option,
    split_out,
    stride_option,
)

if TYPE_CHECKING:
    from shigu.cli._video_job import JobReport

HELP = """Detect objects in a video, stream, webcam or image folder.

Writes an annotated H.264 MP4 (--out) and/or one JSON line per frame (--jsonl) and ends with
a summary: frames, fps and detections per class.

Examples:

  shigu detect video.mp4 --out annotated.mp4 --jsonl detections.jsonl

  shigu detect rtsp://camera/stream --classes person,car --conf 0.4 --jsonl live.jsonl

  shigu detect frames/ --model nanodet-m --out annotated/ --jsonl detections.jsonl

  shigu detect video.mp4 --model my_yolov8n.onnx --format yolov8 --labels labels.txt
  shigu detect aerial/ --slice 640 --overlap 0.2 --classes car,truck --jsonl cars.jsonl
"""

SOURCE_HELP = (
    "Video file, rtsp:// / rtmp:// / http(s):// URL, webcam:0, image folder, glob "
    "or MOTChallenge sequence folder."
)


def detect(
    source: str = typer.Argument(..., help=SOURCE_HELP),
    model: str = typer.Option(
        "yolox-nano",
        "--model",
        "-m",
        help="Registry name (see `shigu models list`) or a .onnx path.",
    ),
    format: str | None = typer.Option(
        None,
        "--format",
        help="Decoder for a local .onnx: yolox, nanodet, yolov8, yunet (guessed when omitted).",
    ),
    labels: str | None = typer.Option(
        None, "--labels", help="Label set (coco80, person, face) or a text file, for a local .onnx."
    ),
    classes: str | None = typer.Option(
        None, "--classes", "-c", help="Only these classes, e.g. person,car."
    ),
    conf: float | None = typer.Option(
        None,
        "--conf",
        min=0.0,
        max=1.0,
        help="Minimum confidence, 0-1 (default: the model's own, see `shigu models info`).",
    ),
    iou: float = typer.Option(0.45, "--iou", min=0.0, max=1.0, help="NMS IoU threshold, 0-1."),
    out: Path | None = typer.Option(
        None,
        "--out",
        "-o",
        help="Annotated H.264 MP4 to write; for image inputs a folder (no extension) gets one "
        "annotated image per input, under its own name.",
    ),
    jsonl: Path | None = typer.Option(None, "--jsonl", help="JSONL of detections to write."),
    stride: int = stride_option(),
    fps: float | None = typer.Option(
        None, "--fps", help="Process at most this many frames per second of video."
    ),
    device: str = device_option(),
    workers: int = typer.Option(0, "--workers", help="Inference runs in flight (0: one per core)."),
    max_frames: int | None = max_frames_option(),
    progress: bool = progress_option(),
    save: bool = save_option("detect", "the annotated video (or images) and JSONL"),
    slice: str | None = slice_option(),
    overlap: float = overlap_option(),
    slice_merge: str = slice_merge_option(),
    slice_full: bool = slice_full_option(),
) -> None:
    slicing = slice_config(slice, overlap, slice_merge, slice_full)
    out, out_dir = split_out(out)
    check_output_path(out, (".mp4", ".mkv", ".mov"), "--out")
    check_output_path(jsonl, (".jsonl", ".json", ".ndjson"), "--jsonl")
    from shigu.cli._video_job import run_video_job
    from shigu.detect.factory import load_detector
    from shigu.detect.stream import throughput_plan
    from shigu.sources.open import open_source

    plan_workers, threads = throughput_plan(device)
    detector = load_detector(
        model,
        format=format,
        device=device,
        conf=conf,
        iou=iou,
        classes=classes,
        labels=labels,
        threads=threads,
    )
    src = open_source(source, stride=stride, target_fps=fps)
    if save and out is None and out_dir is None and jsonl is None:
        chosen = default_outputs("detect", source, src)
        out, out_dir, jsonl = chosen.get("out"), chosen.get("out_dir"), chosen["jsonl"]
        console.print(f"saving to {jsonl.parent}/ (--no-save to skip)", highlight=False)
    require_images(src, out_dir)
    report = run_video_job(
        src,
        detector,
        workers=workers or plan_workers,
        out=out,
        jsonl=jsonl,
        max_frames=max_frames,
        show_progress=progress,
        out_dir=out_dir,
        slicing=slicing,
    )
    print_report(report, "detect")
    if report.interrupted:
        console.print("interrupted: the outputs above hold the frames done so far")
        raise typer.Exit(130)
    if report.truncated is not None:
        raise report.truncated


def print_report(report: JobReport, what: str) -> None:
    console.print(
        f"[bold]{what}[/]: {report.frames} frames in {report.seconds:.1f} s ({report.fps:.1f} fps)",
        highlight=False,
    )
    if report.tracks:
        console.print(count_table("tracks per class", report.tracks, value="tracks"))
    if report.detections:
        console.print(count_table("detections per class", report.detections))
    else:
        console.print("no detections")
    for kind, path in report.outputs.items():
        console.print(f"wrote {kind}: {path}", highlight=False)
