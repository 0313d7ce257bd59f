"""``shigu batch``: detection or tracking over many videos, here or on a Ray cluster."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from shigu.cli._common import (
    console,
    overlap_option,
    progress_bar,
    slice_config,
    slice_full_option,
    slice_merge_option,
    slice_option,
)
from shigu.core.errors import InputError

app = typer.Typer(
    help="Batch jobs over many videos, MOTChallenge sequences or images, here or on Ray.",
    no_args_is_help=True,
)

HELP = """{task} every input and write Parquet (one row per {what}) plus {extra}.

INPUT is a video, a MOTChallenge sequence folder, a folder to scan for both, a glob, or a
list file (.txt, one path or fsspec URL per line); for detect also still images (a folder,
glob or list of them, taken 64 at a time). --slice runs sliced detection for small objects
in large images (as `shigu detect --slice`). Outputs go to OUT/parquet/, OUT/{sub}/
and OUT/done/ (one marker per finished input): a re-run skips what is done. At the end the
run's results are combined as evaluators expect them: {combined}. With --ray the
inputs are spread over a pool of model actors with Ray Data; --ray alone starts a local Ray,
--ray HOST:PORT joins a running cluster (`ray start --head`). An input that cannot be read is
reported in OUT/failed/ and the others go on.

Example: shigu batch {cmd} 'videos/*.mp4' --out results/ --ray 10.0.0.5:6379
"""


def _run(
    task: str,
    input_spec: str,
    out: Path,
    ray_address: str | None,
    workers: int | None,
    model: str,
    conf: float,
    classes: str | None,
    tracker: str,
    stride: int,
    max_frames: int | None,
    threads: int,
    force: bool = False,
    slicing: Any = None,
) -> None:
    from shigu.scale.batch import BatchJob, model_checksum, pending, run_local, run_ray
    from shigu.scale.inputs import list_detect_inputs, list_image_units, list_inputs

    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file", "give a folder for the results")
    if stride < 1:
        raise InputError(f"--stride must be at least 1, got {stride}")
    if task == "inspect":
        model_path = Path(model)
        if "://" not in model and not model_path.is_file():
            raise InputError(f"model file not found: {model}", "pass --model MODEL.shigu")
        from shigu.solutions.industrial.anomaly import AnomalyModel

        if "://" not in model:
            AnomalyModel.load(model_path)  # a corrupt model fails here, once, not per worker
    job = BatchJob(
        task=task,
        inspect_model=model if task == "inspect" else None,
        model=model,
        conf=conf,
        classes=classes,
        tracker=tracker,
        stride=stride,
        max_frames=max_frames,
        threads=threads,
        model_sha256=model_checksum(model),
        slicing=slicing.model_dump() if slicing is not None else None,
    )
    if task == "inspect":
        inputs = list_image_units(input_spec)
    elif task == "detect":
        inputs = list_detect_inputs(input_spec)
    else:
        inputs = list_inputs(input_spec)
    if ray_address is not None:
        from shigu.scale.batch import connect

        connect(ray_address)
    todo = pending(inputs, out, job, force)
    if len(todo) < len(inputs):
        console.print(f"{len(inputs) - len(todo)} of {len(inputs)} input(s) already done; skipping")
    out.mkdir(parents=True, exist_ok=True)
    if not todo:
        console.print(f"nothing to do: every input is done in {out}", markup=False)
        _combine(task, out, inputs)
        return
    results = (
        run_ray(job, todo, out, ray_address, workers)
        if ray_address is not None
        else run_local(job, todo, out)
    )
    frames = failed = 0
    import time

    started = time.perf_counter()
    expected = _expected_frames(todo, max_frames, stride) if task != "inspect" else None
    unit = "frames" if expected else "inputs"
    with progress_bar(f"{task} ({unit})", expected or len(todo)) as bar:
        for done_count, result in enumerate(results, 1):
            frames += int(result.get("frames") or 0)
            if result["status"] != "done":
                failed += 1
                console.print(
                    f"[yellow]failed:[/] {escape(str(result['input']))}: "
                    f"{escape(str(result.get('error')))}"
                )
            elapsed = time.perf_counter() - started
            rate = f"{frames / elapsed:.1f} frames/s, {done_count}/{len(todo)} inputs"
            bar.advance(int(result.get("frames") or 0) if expected else 1, rate=rate)
    console.print(
        f"{len(todo) - failed} input(s) done, {failed} failed, {frames} frames → {out}",
        markup=False,
    )
    _combine(task, out, inputs)
    if failed:
        raise typer.Exit(1)


def _expected_frames(inputs: list[str], max_frames: int | None, stride: int) -> int | None:
    """Frames the run will process, from each local input's header (None when unknown, e.g.
    a remote URL or a stream): the bar then counts frames, not whole inputs."""
    from shigu.core.errors import ShiguError
    from shigu.scale.inputs import _is_local
    from shigu.sources import open_source

    total = 0
    for uri in inputs:
        if "\n" in uri:  # a chunk of still images
            total += len(uri.split("\n")[:: max(1, stride)])
            continue
        if not _is_local(uri):
            return None
        try:
            src = open_source(uri)
        except ShiguError:
            continue  # reported when processed
        try:
            count = src.info.frame_count
        finally:
            src.close()
        if not count:
            return None
        count = -(-count // max(1, stride))
        total += min(count, max_frames) if max_frames else count
    return total or None


def _combine(task: str, out: Path, inputs: list[str]) -> None:
    """Write the run's combined results under the names evaluators expect, and say where."""
    from shigu.scale.combine import combine_coco, combine_mot

    if task == "detect":
        written = combine_coco(out, inputs)
        if written:
            console.print(f"COCO: {written[1]} (image ids from {written[0]})", highlight=False)
    elif task == "track":
        folder = combine_mot(out, inputs)
        if folder:
            console.print(
                f"MOTChallenge: {folder}/<sequence>.txt "
                f"(shigu eval mot --gt GT --results {folder})",
                highlight=False,
            )


def _command(task: str, what: str, extra: str, sub: str) -> Callable[..., None]:
    def command(
        input_spec: str = typer.Argument(
            ..., metavar="INPUT", help="Videos: path, folder, glob or list."
        ),
        out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
        ray_address: str | None = typer.Option(
            None, "--ray", help="Run on Ray: 'local', 'auto' or HOST:PORT of the head node."
        ),
        workers: int | None = typer.Option(
            None, "--workers", help="Model actors (default: cluster CPUs)."
        ),
        model: str = typer.Option("yolox-nano", "--model", "-m", help="Detector name or .onnx."),
        conf: float = typer.Option(
            0.25 if task == "detect" else 0.1, "--conf", help="Detector threshold."
        ),
        classes: str | None = typer.Option(None, "--classes", "-c", help="e.g. person,car."),
        tracker: str = typer.Option("bytetrack", "--tracker", "-t", help="Tracker preset (track)."),
        stride: int = typer.Option(1, "--stride", help="Process every Nth frame."),
        max_frames: int | None = typer.Option(
            None, "--max-frames", help="At most N frames per input."
        ),
        threads: int = typer.Option(
            0, "--threads", help="ONNX Runtime threads per inference run (0: auto, 1 per core)."
        ),
        force: bool = typer.Option(
            False, "--force", help="Redo inputs OUT holds from a run with other settings."
        ),
        slice: str | None = slice_option(),
        overlap: float = overlap_option(),
        slice_merge: str = slice_merge_option(),
        slice_full: bool = slice_full_option(),
    ) -> None:
        slicing = slice_config(slice, overlap, slice_merge, slice_full)
        _run(
            task,
            input_spec,
            out,
            ray_address,
            workers,
            model,
            conf,
            classes,
            tracker,
            stride,
            max_frames,
            threads,
            force,
            slicing,
        )

    combined = (
        "OUT/coco_results.json with image ids from OUT/coco_images.json (COCO category ids)"
        if task == "detect"
        else "OUT/results/<sequence>.txt, ready for `shigu eval mot --results OUT/results`"
    )
    command.__doc__ = HELP.format(
        task=task.capitalize(), what=what, extra=extra, sub=sub, cmd=task, combined=combined
    )
    return command


app.command("detect", no_args_is_help=True)(
    _command("detect", "detection", "COCO results JSON", "coco")
)
INSPECT_HELP = """Inspect many images with an anomaly model from `shigu inspect train`.

INPUT is a folder (searched recursively), a glob or a list file of images (paths or fsspec
URLs). Images are processed in chunks of 64; OUT/parquet/ gets one row per image (source,
score, anomalous, regions as JSON, size, error for an unreadable image), OUT/done/ a marker
per chunk, so a re-run resumes. --ray spreads the chunks over model actors.

Example: shigu batch inspect 'line3/**/*.png' --model hazelnut.shigu --out results/ --ray auto
"""


def inspect(
    input_spec: str = typer.Argument(..., metavar="INPUT", help="Images: folder, glob or list."),
    model: str = typer.Option(..., "--model", "-m", help="The .shigu anomaly model."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
    ray_address: str | None = typer.Option(
        None, "--ray", help="Run on Ray: 'local', 'auto' or HOST:PORT of the head node."
    ),
    workers: int | None = typer.Option(None, "--workers", help="Model actors (default: CPUs)."),
    force: bool = typer.Option(
        False, "--force", help="Redo chunks OUT holds from a run with another model."
    ),
) -> None:
    _run("inspect", input_spec, out, ray_address, workers, model, 0.0, None, "", 1, None, 0, force)


app.command("inspect", help=INSPECT_HELP, no_args_is_help=True)(inspect)
app.command("track", no_args_is_help=True)(
    _command("track", "track box", "MOTChallenge txt files", "mot")
)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="batch")
