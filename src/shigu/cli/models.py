"""``shigu models``: list, inspect and download models of the zoo."""

from __future__ import annotations

import typer
from rich.table import Table

from shigu.cli._common import console, narrow_table
from shigu.runtime.registry import MODELS, get_spec
from shigu.runtime.zoo import ModelZoo

app = typer.Typer(
    help="List, inspect and download models (cache: $SHIGU_HOME; offline "
    "mirror: $SHIGU_MODEL_MIRROR).",
    no_args_is_help=True,
)


@app.command("list")
def list_() -> None:
    """Every model in the registry, and whether it is in the cache.

    Example: shigu models list
    """
    zoo = ModelZoo(progress=None)
    wide = console.width >= 110  # one line per model at 80 columns: format only when wide
    headers = ["name", "format", "input", "sha256", "cached", "description"]
    pins = zoo.pins()
    rows = []
    for spec in MODELS.values():
        checksum = "verified" if spec.sha256 else ("pinned" if spec.name in pins else "1st use")
        rows.append(
            [
                spec.name,
                spec.format,
                f"{spec.input_size[0]}x{spec.input_size[1]}",
                checksum,
                "yes" if zoo.is_cached(spec.name) else "-",
                spec.description,
            ]
        )
    if not wide:
        headers.pop(1)
        rows = [r[:1] + r[2:] for r in rows]
    table = narrow_table(f"models (cache: {zoo.models_dir})", headers, rows)
    console.print(table)


@app.command()
def info(name: str = typer.Argument(..., help="Model name, e.g. yolox-nano.")) -> None:
    """Everything the registry knows about one model.

    Example: shigu models info yolox-nano
    """
    spec = get_spec(name)
    zoo = ModelZoo(progress=None)
    sha = zoo.expected_sha(spec)
    rows = [
        ("name", spec.name),
        ("description", spec.description),
        ("format", spec.format),
        ("input", f"{spec.input_size[0]}x{spec.input_size[1]}"),
        ("labels", spec.labels),
        ("default --conf", f"{spec.default_conf:g}" if spec.format not in ("reid",) else "-"),
        ("licence", spec.licence),
        ("file", spec.filename),
        (
            "sha256",
            (sha or "none yet: pinned on first download")
            + ("" if spec.sha256 or not sha else " (pinned on first download, not verified)"),
        ),
        ("urls", "\n".join(spec.urls)),
        ("cached", str(zoo.cached_path(name)) if zoo.is_cached(name) else "no"),
    ]
    table = Table(show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)


@app.command()
def pull(
    names: list[str] = typer.Argument(None, help="Model names (default: yolox-nano)."),
    all_: bool = typer.Option(False, "--all", help="Every model with a verified checksum."),
    force: bool = typer.Option(False, "--force", help="Download again even if cached."),
) -> None:
    """Download models into the cache (resumes partial downloads, verifies sha256).

    Example: shigu models pull yolox-nano nanodet-m
    """
    zoo = ModelZoo()
    wanted = [s.name for s in MODELS.values() if s.sha256] if all_ else (names or ["yolox-nano"])
    for name in wanted:
        get_spec(name)
    for name in wanted:
        path = zoo.pull(name, force=force)
        console.print(f"{name}: {path}", highlight=False)
