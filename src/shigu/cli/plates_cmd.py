"""``shigu plates``: read Chinese licence plates in images, folders, globs or videos."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.markup import escape

from shigu.cli._common import check_output_path, console, progress_bar, progress_option
from shigu.core.errors import InputError

HELP = """Read Chinese licence plates: find them, straighten them, read and check them.

INPUT is an image, a folder or glob of images, or a video (file or stream). Each plate is
found with its four corners (HyperLPR3's detector), warped upright, read by a plate CRNN
(double-row plates split and joined first) with PP-OCRv4 as a second reader for unsure
characters, and checked against the plate grammar (province, letter, 5 or 6 characters, or
a usage character such as 学 or 警). A string that breaks the grammar is reported as read,
with "valid": false and a capped confidence.

--json writes a list of {"file", "plates": [{"text", "confidence", "chars_confidence",
"corners", "box", "color", "double_row", "valid", "kind"}]} (videos: one entry per frame
with plates, with "frame" and "time"); --out writes annotated images (a folder) or an MP4.

Examples:

  shigu plates car.jpg

  shigu plates 'gate/*.jpg' --json plates.json --out annotated/

  shigu plates entrance.mp4 --stride 5 --json plates.json --out entrance_plates.mp4
"""


def plates(
    source: str = typer.Argument(..., metavar="INPUT", help="Image, folder, glob or video."),
    json_path: Path | None = typer.Option(None, "--json", help="Write the plates as JSON."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Annotated images (a folder) or, for a video, an .mp4."
    ),
    detector: str = typer.Option(
        "plate-detect-320",
        "--detector",
        help="plate-detect-320 (fast) or plate-detect-640 (small, distant plates), or a .onnx.",
    ),
    conf: float = typer.Option(0.25, "--conf", min=0.0, max=1.0, help="Plate detector threshold."),
    second_opinion: bool = typer.Option(
        True,
        "--second-opinion/--no-second-opinion",
        help="Ask PP-OCRv4 about plates read with an unsure character.",
    ),
    stride: int = typer.Option(1, "--stride", min=1, help="Videos: read every Nth frame."),
    max_frames: int | None = typer.Option(
        None, "--max-frames", min=1, help="Videos: stop after N frames."
    ),
    progress: bool = progress_option(),
) -> None:
    from shigu.solutions.vehicles.plates import load_plate_reader
    from shigu.sources.images import IMAGE_EXTENSIONS, is_glob, list_images

    check_output_path(json_path, (".json",), "--json")
    path = Path(source)
    is_images = is_glob(source) or path.is_dir() or path.suffix.lower() in IMAGE_EXTENSIONS
    if out is not None:
        if is_images and out.suffix.lower() in (".mp4", ".mkv", ".mov"):
            raise InputError(f"--out {out} is a video file, but INPUT is images",
                             "give a folder for the annotated images")  # fmt: skip
        if not is_images:
            check_output_path(out, (".mp4", ".mkv", ".mov"), "--out")
    if is_images:
        if not (is_glob(source) or path.exists()):
            raise InputError(f"not found: {source}", "check the image, folder or pattern")
        from shigu.core.errors import SourceError

        try:
            paths = list_images(source)
        except SourceError as exc:
            raise InputError(exc.one_line()) from None
    reader = load_plate_reader(detector, threads=0, conf=conf)
    reader.second_opinion = second_opinion
    results = (
        _images(reader, paths, out, progress)
        if is_images
        else _video(reader, source, out, stride, max_frames, progress)
    )
    found = sum(len(r.get("plates", [])) for r in results)
    failed = [r["file"] for r in results if "error" in r]
    if json_path is not None:
        from shigu.io.atomic import atomic_write

        atomic_write(json_path, json.dumps(results, ensure_ascii=False, indent=1).encode())
        console.print(f"wrote {json_path}", highlight=False)
    for r in results[:50]:
        for p in r.get("plates", []):
            flag = "" if p["valid"] else "  (not a valid plate)"
            where = f" frame {r['frame']}" if "frame" in r else ""
            console.print(f"{escape(str(r['file']))}{where}: {p['text']} {p['color']} "
                          f"{p['confidence']:.2f}{flag}", highlight=False)  # fmt: skip
    console.print(f"{found} plate(s) in {len(results)} {'image' if is_images else 'frame'}(s)"
                  + (f"; {len(failed)} unreadable: {', '.join(failed[:5])}" if failed else ""),
                  highlight=False)  # fmt: skip
    if failed and len(failed) == len(results):
        raise typer.Exit(3)


def _images(
    reader: Any, paths: list[Path], out: Path | None, progress: bool
) -> list[dict[str, Any]]:
    from shigu.io.image_writer import ImageFolderWriter
    from shigu.sources.images import read_image

    writer = ImageFolderWriter(out, paths) if out is not None else None
    results: list[dict[str, Any]] = []
    with progress_bar("plates", len(paths), progress) as bar:
        for p in paths:
            image = read_image(p)
            if image is None:
                results.append({"file": str(p), "error": "unreadable image"})
                console.print(f"[yellow]unreadable:[/] {escape(str(p))}")
                bar.advance(1)
                continue
            found = reader.read(image)
            results.append({"file": str(p), "plates": [f.to_json() for f in found]})
            if writer is not None:
                writer.write(p, draw_plates(image.copy(), found))
            bar.advance(1)
    return results


def _video(reader: Any, source: str, out: Path | None, stride: int, max_frames: int | None,
           progress: bool) -> list[dict[str, Any]]:  # fmt: skip
    from shigu.io.video_writer import VideoWriter
    from shigu.sources.open import open_source

    src = open_source(source, stride=stride)
    writer = None
    results: list[dict[str, Any]] = []
    total = src.info.frame_count // stride if src.info.frame_count else None
    if max_frames:
        total = min(total, max_frames) if total else max_frames
    try:
        if out is not None:
            writer = VideoWriter(out, fps=src.output_fps or src.info.fps or 25.0)
        with progress_bar("plates", total, progress) as bar:
            for n, frame in enumerate(src, 1):
                found = reader.read(frame.image)
                if found:
                    results.append({"file": source, "frame": frame.index,
                                    "time": round(frame.timestamp, 3),
                                    "plates": [f.to_json() for f in found]})  # fmt: skip
                if writer is not None:
                    writer.write(draw_plates(frame.image.copy(), found))
                bar.advance(1)
                if max_frames and n >= max_frames:
                    break
    finally:
        src.close()
        if writer is not None:
            writer.close()
    return results


def draw_plates(image: np.ndarray, found: list[Any]) -> np.ndarray:
    """Each plate's outline and, above it, its text and colour (in a CJK font)."""
    import cv2

    from shigu.annotate.text import put_text

    for p in found:
        colour = (0, 200, 0) if p.valid else (0, 160, 255)
        cv2.polylines(image, [np.round(p.corners).astype(np.int32)], True, colour, 2)
        size = max(16, int((p.box[3] - p.box[1]) * 0.6))
        label = f"{p.text} {p.color}" + ("" if p.valid else " ?")
        put_text(image, label, (int(p.box[0]), max(0, int(p.box[1]) - size - 8)), size,
                 background=colour)  # fmt: skip
    return image


def register(app: typer.Typer) -> None:
    app.command("plates", help=HELP, no_args_is_help=True)(plates)
