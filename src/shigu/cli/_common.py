"""Shared CLI pieces: consoles, logging, progress bars, summary tables."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from shigu.core.errors import InputError

console = Console()
console_err = Console(stderr=True, soft_wrap=True)


def setup_logging(level: int) -> None:
    from shigu.core.redact import RedactingFilter

    root = logging.getLogger()
    if not any(isinstance(h, RichHandler) for h in root.handlers):
        handler = RichHandler(console=console_err, show_path=False, show_time=False, markup=False)
        handler.addFilter(RedactingFilter())  # camera passwords never reach a log
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class _Bar:
    def __init__(self, progress: Progress | None, task: TaskID | None) -> None:
        self._p, self._t = progress, task

    def advance(self, n: int = 1, rate: str = "") -> None:
        if self._p is not None and self._t is not None:
            self._p.update(self._t, advance=n, rate=rate)


@contextmanager
def progress_bar(description: str, total: int | None, enabled: bool = True) -> Iterator[_Bar]:
    """A rich progress bar on stderr showing count, rate and time left."""
    if not enabled:
        yield _Bar(None, None)
        return
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console_err,
        transient=False,
    )
    with progress:
        task = progress.add_task(description, total=total, rate="")
        yield _Bar(progress, task)


def narrow_table(title: str, headers: list[str], rows: list[list[str]]) -> Table:
    """A table that keeps one line per row on the terminal (80 columns too): every column
    but the last keeps its width; the last is cut with an ellipsis to what is left."""
    from rich import box

    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    room = console.width - sum(widths[:-1]) - 3 * len(headers)
    last = max(len(headers[-1]), room)
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for header, width in zip(headers[:-1], widths[:-1], strict=True):
        table.add_column(header, no_wrap=True, min_width=width)
    table.add_column(headers[-1], no_wrap=True, max_width=last)
    for row in rows:
        text = row[-1] if len(row[-1]) <= last else row[-1][: max(0, last - 1)] + "…"
        table.add_row(*row[:-1], text)
    return table


def count_table(
    title: str, counts: Mapping[str, int], key: str = "class", value: str = "detections"
) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(key)
    table.add_column(value, justify="right")
    for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(name, str(n))
    return table


VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov")


def next_run_dir(command: str, source: str, root: Path = Path("runs")) -> Path:
    """A new folder ``runs/<command>/<name>``, ``<name>2``, ... (never one already used)."""
    import re

    stem = Path(source.rstrip("/")).stem or Path(source.rstrip("/")).name or "run"
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", stem)[:40] or "run"
    parent = root / command
    check_writable_folder(parent)
    for n in range(1, 10_000):
        folder = parent / (name if n == 1 else f"{name}{n}")
        try:
            folder.mkdir(parents=True)
            return folder
        except FileExistsError:
            continue
    raise InputError(f"too many runs in {parent}", "clean it up or pass --out")


def default_outputs(
    command: str, source_uri: str, src: object, with_mot: bool = False
) -> dict[str, Path]:
    """Where detect/track save when no output is asked for, as Ultralytics' runs/ folders:
    the annotated video (or images, for image inputs), the JSONL and, for track, MOT rows."""
    folder = next_run_dir(command, source_uri)
    images = bool(getattr(src, "paths", None))
    outputs = {
        "out_dir" if images else "out": folder / "annotated" if images else folder / "annotated.mp4"
    }
    outputs["jsonl"] = folder / f"{command}.jsonl"
    if with_mot:
        outputs["mot_txt"] = folder / "tracks.txt"
    return outputs


def split_out(out: Path | None) -> tuple[Path | None, Path | None]:
    """(video file, image folder) from ``--out``: a name without a video extension (or an
    existing folder) is a folder for annotated images."""
    if out is None or out.suffix.lower() in VIDEO_SUFFIXES:
        return out, None
    if out.is_dir() or not out.suffix:
        check_writable_folder(out)
        return None, out
    return out, None  # a wrong extension: check_output_path says so


def require_images(source: object, out_dir: Path | None) -> None:
    """``--out DIR`` writes one annotated image per input image: the input must be images."""
    if out_dir is not None and not getattr(source, "paths", None):
        raise InputError(
            f"--out {out_dir} is a folder: annotated images need an image input",
            "give a .mp4 file name for a video",
        )


def check_output_path(path: Path | None, suffixes: tuple[str, ...], what: str) -> None:
    """Fail before any work when an output path cannot be written."""
    if path is None:
        return
    if suffixes and path.suffix.lower() not in suffixes:
        raise InputError(f"{what} {path} should end in {' or '.join(suffixes)}")
    parent = path.parent if str(path.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise InputError(f"cannot write {path}: {parent} is not a folder")
    if path.is_dir():
        raise InputError(f"cannot write {path}: it is a folder", "give a file name")
    check_writable_folder(parent, path)


def check_writable_folder(folder: Path, path: Path | None = None) -> None:
    """Fail before any work when nothing can be created in ``folder`` (or where it would be)."""
    import tempfile

    target = path or folder
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"cannot write {target}: {existing} is not a folder", "")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(
            f"cannot write {target}: {existing} is not writable ({reason})",
            "choose a folder you can write to",
        ) from None


# Options every frame job (detect, track, pose, demo) takes, declared once.
def device_option() -> Any:
    return typer.Option("cpu", "--device", help="cpu, cuda, tensorrt, openvino, auto.")


def max_frames_option() -> Any:
    return typer.Option(None, "--max-frames", min=1, help="Stop after N frames.")


def progress_option() -> Any:
    return typer.Option(True, "--progress/--no-progress", help="Show a progress bar.")


def stride_option() -> Any:
    return typer.Option(1, "--stride", min=1, help="Process every Nth frame.")


def save_option(command: str, what: str) -> Any:
    """``--save/--no-save``: where results go when no output option is given."""
    return typer.Option(
        True,
        "--save/--no-save",
        help=f"With no output options, save {what} to runs/{command}/NAME/.",
    )


def slice_option() -> Any:
    return typer.Option(
        None,
        "--slice",
        help="Sliced inference for small objects in large images (SAHI's): a tile size in "
        "pixels, or auto (the model's input size; no slicing on images up to 1.5x it).",
    )


def overlap_option() -> Any:
    return typer.Option(
        0.2, "--overlap", min=0.0, max=0.95, help="With --slice: overlap of neighbouring tiles."
    )


def slice_merge_option() -> Any:
    return typer.Option(
        "greedy_nmm",
        "--slice-merge",
        help="With --slice: how boxes of overlapping tiles combine: greedy_nmm, nmm or nms.",
    )


def slice_full_option() -> Any:
    return typer.Option(
        True,
        "--slice-full/--no-slice-full",
        help="With --slice: also detect on the whole image (objects larger than a tile).",
    )


def slice_config(size: str | None, overlap: float, merge: str, full: bool) -> Any:
    """The ``SliceConfig`` the --slice options ask for, or None without --slice."""
    from shigu.detect.slicing import SliceConfig

    if size is None:
        return None
    value: int | str = size.strip().lower()
    if value != "auto":
        try:
            value = int(size)
        except ValueError:
            raise InputError(
                f"--slice must be a tile size in pixels or auto, got {size!r}", "e.g. --slice 640"
            ) from None
        if not 32 <= value <= 8192:
            raise InputError(f"--slice must be within 32..8192 pixels, got {value}")
    if merge not in ("greedy_nmm", "nmm", "nms"):
        raise InputError(
            f"--slice-merge must be greedy_nmm, nmm or nms, got {merge!r}",
            "greedy_nmm is SAHI's default",
        )
    return SliceConfig(size=value, overlap=overlap, merge=merge, full=full)
