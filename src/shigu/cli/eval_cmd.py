"""``shigu eval``: score results against ground truth with the reference libraries."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from shigu.cli._common import check_output_path, console

app = typer.Typer(
    help="Evaluate results: MOT tracking metrics with TrackEval.", no_args_is_help=True
)

MOT_HELP = """Tracking metrics (HOTA, MOTA, IDF1 and their parts) computed by TrackEval.

GT holds sequence folders with gt/gt.txt and seqinfo.ini (MOT15 ground truth with world
coordinates and MOT16/17/20 with class and visibility columns are both understood); RESULTS
holds one <sequence>.txt per sequence. Prints a table, writes a CSV and a plot of HOTA
against the localisation threshold.

Example: shigu eval mot --gt MOT17/train --results results/ --csv metrics.csv
"""


@app.command("mot", help=MOT_HELP)
def mot(
    gt: Path = typer.Option(..., "--gt", help="Ground-truth folder (sequence folders)."),
    results: Path = typer.Option(..., "--results", help="Folder with <sequence>.txt files."),
    benchmark: str | None = typer.Option(
        None,
        "--benchmark",
        help="MOT15, MOT16, MOT17 or MOT20 (default: read off the ground truth).",
    ),
    seqs: str | None = typer.Option(None, "--seqs", help="Only these sequences (comma list)."),
    gt_scale: float = typer.Option(
        1.0,
        "--gt-scale",
        help="Scale ground-truth boxes, for a "
        "video re-encoded at another size "
        "(PETS 480x360 vs MOT15: 0.625).",
    ),
    csv: Path | None = typer.Option(
        None, "--csv", help="CSV to write (default: RESULTS/mot_metrics.csv)."
    ),
    plot: Path | None = typer.Option(
        None, "--plot", help="PNG to write (default: RESULTS/hota_alpha.png)."
    ),
) -> None:
    from shigu.eval.mot import SUMMARY_KEYS, evaluate_mot

    check_output_path(csv, (".csv",), "--csv")
    check_output_path(plot, (".png",), "--plot")
    result = evaluate_mot(
        gt,
        results,
        benchmark=benchmark,
        sequences=[s.strip() for s in seqs.split(",")] if seqs else None,
        gt_scale=gt_scale,
    )
    table = Table(
        title=f"{result.benchmark}: {len(result.sequences)} sequences", title_justify="left"
    )
    table.add_column("sequence", no_wrap=True)
    shown = [k for k in SUMMARY_KEYS if k not in ("LocA", "MT", "ML", "Frag")]
    for key in shown:
        table.add_column(
            {"CLR_FP": "FP", "CLR_FN": "FN"}.get(key, key), justify="right", no_wrap=True
        )
    for name in [*result.sequences, "COMBINED"]:
        row = result.metrics[name]
        cells = [
            f"{row[k]:.1f}" if k in ("HOTA", "DetA", "AssA", "MOTA", "IDF1") else f"{row[k]:.0f}"
            for k in shown
        ]
        table.add_row(name, *cells, style="bold" if name == "COMBINED" else None)
    console.print(table)
    csv_path = csv or results / "mot_metrics.csv"
    plot_path = plot or results / "hota_alpha.png"
    result.write_csv(csv_path)
    result.plot_hota(plot_path)
    console.print(f"wrote {csv_path} and {plot_path}", highlight=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="eval")
