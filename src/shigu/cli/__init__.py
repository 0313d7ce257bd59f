"""The ``shigu`` command: one Typer app, one module per command group."""

from __future__ import annotations

import logging
import sys

import click
import typer

from shigu.cli._common import console_err, setup_logging
from shigu.core.errors import ShiguError

app = typer.Typer(
    name="shigu",
    help="Shigu (视谷): from cameras, videos and image folders to detections, tracks, events "
    "and reports.\n\nStart with `shigu demo`, then `shigu detect VIDEO --out out.mp4`.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show progress logs."),
) -> None:
    setup_logging(logging.INFO if verbose else logging.WARNING)


def _register() -> None:
    from shigu.cli import demo, detect, models

    app.command("detect", help=detect.HELP, no_args_is_help=True)(detect.detect)
    app.command("demo", help=demo.HELP)(demo.demo)
    app.add_typer(models.app, name="models")
    for name in ("track", "eval", "config", "run", "events", "serve", "users", "inspect", "batch"):
        try:
            module = __import__(f"shigu.cli.{name}_cmd", fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("shigu.cli."):
                continue
            raise
        module.register(app)


_register()


def main() -> None:
    """Entry point: run the app; turn Shigu errors into one line and an exit code."""
    try:
        result = app(standalone_mode=False)
    except ShiguError as exc:
        console_err.print(f"[bold red]error:[/] {exc.one_line()}", highlight=False)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        console_err.print("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        console_err.print("interrupted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    sys.exit(result if isinstance(result, int) else 0)
