"""The ``shigu`` command: one Typer app, one module per command group."""

from __future__ import annotations

import logging
import sys

import typer
from rich.markup import escape

from shigu.cli._common import console, console_err, setup_logging
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


def _show_version(value: bool) -> None:
    if value:
        from shigu import __version__

        console.print(f"shigu {__version__}", highlight=False)
        raise typer.Exit(0)


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show progress logs."),
    version: bool = typer.Option(
        False,
        "--version",
        help="Print the version and exit.",
        is_eager=True,
        callback=_show_version,
    ),
) -> None:
    setup_logging(logging.INFO if verbose else logging.WARNING)


def _register() -> None:
    from shigu.cli import demo, detect, models

    app.command("detect", help=detect.HELP, no_args_is_help=True)(detect.detect)
    app.command("demo", help=demo.HELP)(demo.demo)
    app.add_typer(models.app, name="models")
    for name in (
        "track",
        "eval",
        "config",
        "run",
        "events",
        "serve",
        "users",
        "inspect",
        "batch",
        "pcd",
        "pose",
        "plates",
        "thermal",
        "enhance",
        "med",
        "avatar",
        "doctor",
        "arena",
        "faces",
    ):
        try:
            module = __import__(f"shigu.cli.{name}_cmd", fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("shigu.cli."):
                continue
            raise
        module.register(app)


_register()


def _exception_types() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """Abort and Exit as Typer raises them: its own (Typer 0.29 vendors click) and click's."""
    aborts: list[type[BaseException]] = [typer.Abort]
    exits: list[type[BaseException]] = [typer.Exit]
    try:
        import click
    except ModuleNotFoundError:
        pass
    else:
        aborts.append(click.exceptions.Abort)
        exits.append(click.exceptions.Exit)
    return tuple(aborts), tuple(exits)


_ABORTS, _EXITS = _exception_types()


def _usage_error_line(exc: Exception) -> str:
    """Click's and Typer's usage errors as one line with the command's --help to read."""
    format_message = getattr(exc, "format_message", None)
    message = format_message() if callable(format_message) else str(exc)
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", "shigu") if ctx is not None else "shigu"
    message = " ".join(str(message).split()).rstrip(".")
    if message.startswith("Got unexpected extra argument"):
        return (
            f"{message}: several paths were given where one is expected. The shell expands an "
            f"unquoted glob: quote it ('frames/*.jpg') or give the folder. "
            f"Run '{path} --help' for the options"
        )
    return f"{message}. Run '{path} --help' to see the options and examples"


# options whose value may be left out, and the value they then take
_OPTIONAL_VALUES = {"--ray": "local"}


def _fill_optional_values(args: list[str]) -> list[str]:
    """``--ray`` alone (last, or before another option) means ``--ray local``."""
    out: list[str] = []
    for i, arg in enumerate(args):
        out.append(arg)
        if arg in _OPTIONAL_VALUES and (i + 1 == len(args) or args[i + 1].startswith("-")):
            out.append(_OPTIONAL_VALUES[arg])
    return out


def main() -> None:
    """Entry point: run the app; turn every error into one line and an exit code."""
    try:
        result = app(args=_fill_optional_values(sys.argv[1:]), standalone_mode=False)
    except ShiguError as exc:
        from shigu.core.redact import redact_uri

        line = redact_uri(exc.one_line()) or ""  # a camera's password never reaches the screen
        console_err.print(f"[bold red]error:[/] {escape(line)}", highlight=False)
        sys.exit(exc.exit_code)
    except _ABORTS:
        console_err.print("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        console_err.print("interrupted")
        sys.exit(130)
    except _EXITS as exc:
        sys.exit(int(getattr(exc, "exit_code", 0) or 0))
    except Exception as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `shigu` or a group: its help
            ctx = getattr(exc, "ctx", None)
            console.print(ctx.get_help() if ctx is not None else str(exc), highlight=False)
            sys.exit(2)
        code = getattr(exc, "exit_code", None)
        if not isinstance(code, int) or not hasattr(exc, "format_message"):
            raise
        console_err.print(f"[bold red]error:[/] {escape(_usage_error_line(exc))}", highlight=False)
        sys.exit(code)
    sys.exit(result if isinstance(result, int) else 0)
