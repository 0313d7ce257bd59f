"""``shigu run CONFIG``: the pipeline engine, from a YAML config to stored events."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import typer
from rich.table import Table

from shigu.cli._common import check_output_path, console, console_err
from shigu.core.errors import ConfigError

HELP = """Run a pipeline: sources → detector → tracker → zones/lines/rules → events in the store,
snapshots/clips on disk, and the configured sinks (JSONL, webhook, MQTT, annotated video).

Files are processed frame by frame to the end; live streams run until Ctrl-C or SIGTERM,
dropping frames when behind so latency stays bounded. Stopping flushes everything: open
events are closed, sinks drained, the summary written.

Examples:
  shigu run examples/security/pets_perimeter.yaml --summary-json summary.json
  shigu run site.yaml --print-events
"""


def run(
    config: Path = typer.Argument(..., help="Pipeline YAML config."),
    summary_json: Path | None = typer.Option(
        None, "--summary-json", help="Write the run summary (frames, fps, counts, events) here."
    ),
    max_frames: int | None = typer.Option(
        None, "--max-frames", min=1, help="Stop each source after N frames."
    ),
    print_events: bool = typer.Option(
        False, "--print-events", help="Print one line per event once it is stored."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show live progress."),
    ray_address: str | None = typer.Option(
        None,
        "--ray",
        help="Run on Ray: 'local' starts one here, 'auto' or HOST:PORT joins a cluster. Each "
        "source gets an actor; inference runs on a pool of model actors.",
    ),
    model_actors: int | None = typer.Option(
        None, "--model-actors", min=1, help="With --ray: model actors (default: CPUs / 2)."
    ),
) -> None:
    from shigu.pipeline import Pipeline, load_config

    check_output_path(summary_json, (".json",), "--summary-json")
    cfg = load_config(config)
    from shigu.pipeline.checks import check_config

    problems = check_config(cfg, sources=False)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        err = ConfigError(
            f"{config}: {problems[0]}{more}", "run `shigu config validate FILE` for all"
        )
        raise err
    if ray_address is not None:
        from shigu.scale.streams import run_on_ray

        summary = run_on_ray(cfg, ray_address, max_frames, model_actors)
        _print_summary(summary)
        if summary_json is not None:
            summary_json.write_text(json.dumps(summary, indent=2), encoding="utf-8")
            console.print(f"summary written to {summary_json}", highlight=False)
        return

    def on_item(item: Any) -> None:
        if print_events and hasattr(item, "type"):
            where = item.zone or item.line or ""
            console.print(
                f"stored {item.id} {item.type} source={item.source} {where} "
                f"track={item.track_id} t={item.start:.2f}",
                highlight=False,
            )

    from shigu.pipeline.rerun import file_run_salt

    # files read at full speed are deterministic: their events get ids from the inputs, so a
    # re-run (after a crash, or again on purpose) replaces them instead of duplicating them
    pipeline = Pipeline(cfg, max_frames=max_frames, on_item=on_item,
                        event_id_salt=file_run_salt(cfg))  # fmt: skip

    received: list[int] = []

    def _stop(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        console_err.print(f"{signal.Signals(signum).name}: finishing and flushing…")
        pipeline.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    done = threading.Event()
    ticker = threading.Thread(target=_progress, args=(pipeline, done, max_frames), daemon=True)
    if progress and console_err.is_terminal:
        ticker.start()
    try:
        summary = pipeline.run()
    finally:
        done.set()
        if ticker.is_alive():
            ticker.join(timeout=2)  # the bar's last line before the summary
    _print_summary(summary)
    _print_outputs(cfg)
    if summary_json is not None:
        summary_json.write_text(json.dumps(summary, indent=2), encoding="utf-8")
        console.print(f"summary written to {summary_json}", highlight=False)
    if signal.SIGINT in received:  # Ctrl-C: the same code as `shigu detect` and `track`
        raise typer.Exit(130)


def _print_outputs(cfg: Any) -> None:
    """Where this run's results are, so a stopped run says what it wrote."""
    from shigu.store.events import _redact
    from shigu.store.locate import absolute_url

    console.print(f"events stored in {_redact(absolute_url(cfg.store.url))}", highlight=False)
    console.print(f"snapshots and clips in {cfg.store.media_dir}", highlight=False)
    sinks = cfg.sinks
    for what, where in (
        ("events also in", sinks.jsonl),
        ("annotated videos in", sinks.video_dir),
        ("heatmaps in", sinks.heatmap_dir),
        ("tracks and events on the map in", sinks.geojson),
        ("the map as KML in", sinks.kml),
    ):
        if where:
            console.print(f"{what} {where}", highlight=False)


def files_total(states: dict[str, Any], max_frames: int | None) -> int | None:
    """Frames the run will process when every source is a file of known length, else None."""
    total = 0
    for st in states.values():
        info = st.runner.info
        if info is None or info.live or not info.frame_count or st.runner.loop:
            return None
        total += min(info.frame_count, max_frames) if max_frames else info.frame_count
    return total or None


def _progress(pipeline: Any, done: threading.Event, max_frames: int | None) -> None:
    """A bar with total, % and time left for file runs; a frame count per source for live."""
    from shigu.cli._common import progress_bar

    while not pipeline.states and not done.wait(0.2):
        pass
    total = files_total(pipeline.states, max_frames)
    if total is None:
        while not done.wait(2.0):
            parts = [f"{sid}: {st.frames} frames" for sid, st in pipeline.states.items()]
            console_err.print(" | ".join(parts), highlight=False)
        return
    shown = 0
    with progress_bar("run", total) as bar:
        while True:
            finished = done.wait(0.5)
            frames = sum(st.frames for st in list(pipeline.states.values()))
            if frames > shown:
                bar.advance(frames - shown, rate=f"{len(pipeline.states)} source(s)")
                shown = frames
            if finished:
                return


def _print_summary(summary: dict[str, Any]) -> None:
    table = Table(title="sources", title_justify="left")
    for col in ("source", "frames", "fps", "dropped", "tracks", "error"):
        table.add_column(col, justify="left" if col in ("source", "error") else "right")
    for sid, s in summary["sources"].items():
        table.add_row(
            sid,
            str(s.get("frames", 0)),
            f"{s.get('fps', 0):.1f}",
            str(s.get("dropped", 0)),
            str(s.get("tracks", 0)),
            s.get("error") or "",
        )
    console.print(table)
    for lid, c in summary["lines"].items():
        console.print(f"line {lid}: in {c['in']}, out {c['out']}", highlight=False)
    events = ", ".join(f"{k} {v}" for k, v in sorted(summary["events"].items())) or "none"
    console.print(f"events: {events}", highlight=False)
    if summary.get("media_failures"):
        console_err.print(
            f"warning: {summary['media_failures']} snapshots/clips could not be written "
            "(events were stored without them)"
        )


def register(root: typer.Typer) -> None:
    root.command("run", help=HELP, no_args_is_help=True)(run)
