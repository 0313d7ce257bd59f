"""``shigu config validate``: check a pipeline config and list every problem."""

from __future__ import annotations

from pathlib import Path

import typer

from shigu.cli._common import console, console_err
from shigu.core.errors import ConfigError

app = typer.Typer(help="Pipeline config files.", no_args_is_help=True)

VALIDATE_HELP = """Validate a pipeline YAML config; print every problem with its key path.

The file describes sources, the detector and tracker, zones with rules, lines, the store and
sinks (see examples/ and docs/pipeline.md). Checked, all at once: the schema, then what can be
known without running (detector, classes, tracker and ReID model exist; the store URL is
SQLite or PostgreSQL; source files exist). --probe also opens every source and checks that
zones and lines lie inside its frames. Exit code 0 when valid, 5 when not: the same checks
`shigu run` makes before it starts.

Example: shigu config validate examples/security/pets_perimeter.yaml
"""


@app.command("validate", help=VALIDATE_HELP)
def validate(
    file: Path = typer.Argument(..., help="YAML config file."),
    probe: bool = typer.Option(False, "--probe", help="Also open the sources (frame sizes)."),
) -> None:
    from rich.markup import escape

    from shigu.pipeline.checks import check_config
    from shigu.pipeline.config import load_config

    try:
        cfg = load_config(file)
        details = check_config(cfg, probe=probe)
    except ConfigError as exc:
        details = getattr(exc, "details", None) or [exc.message]
    for line in details:
        console_err.print(f"[bold red]error:[/] {escape(f'{file}: {line}')}", highlight=False)
    if details:
        raise typer.Exit(ConfigError.exit_code)
    rules = sum(len(z.rules) for z in cfg.zones)
    console.print(
        f"{file}: valid ({len(cfg.sources)} sources, {len(cfg.zones)} zones, {rules} rules, "
        f"{len(cfg.lines)} lines; store {cfg.store.url.split('@')[-1]})",
        highlight=False,
    )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="config")
