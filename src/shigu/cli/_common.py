"""Shared CLI pieces: consoles, logging, progress bars, summary tables."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

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
    root = logging.getLogger()
    if not any(isinstance(h, RichHandler) for h in root.handlers):
        root.addHandler(
            RichHandler(console=console_err, show_path=False, show_time=False, markup=False)
        )
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
