"""``shigu inspect``: industrial inspection: anomaly models, codes, OCR and measurement."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from shigu.cli._common import check_output_path, console, console_err, progress_bar
from shigu.core.errors import InputError

app = typer.Typer(
    help="Industrial inspection: anomaly detection trained on good parts, barcode/QR/DataMatrix "
    "reading, label OCR and calibrated measurement.",
    no_args_is_help=True,
)

TRAIN_HELP = """Train an anomaly model from good images only.

DIR is a folder of good images, or an MVTec-AD folder (then DIR/train/good is used). A share
of the images (--val-fraction) is held back to calibrate the OK/NG threshold. The backbone is
EfficientNet-Lite0 with ImageNet weights, exported to ONNX on first use (needs the
`shigu\\[train]` extra: torch), or any ONNX feature extractor given with --backbone. The result
is one file holding the backbone, memory bank, threshold and preprocessing.

Images keep their shape (--resize scale, PatchCore's default): all are scaled by one factor so
the typical image's shorter side is --size network pixels, and padded by reflection to
multiples of 32; long parts, mixed sizes and thin defects are not squashed.

Example: shigu inspect train hazelnut/ --out hazelnut.shigu
"""

PREDICT_HELP = """Inspect images with a trained model: score, OK/NG verdict, defect regions.

Writes one heatmap overlay PNG per image to --out and prints a table; --json writes the
results (score, verdict, regions) for other programs.

Example: shigu inspect predict hazelnut.shigu 'line3/*.png' --out overlays/
"""

EVAL_HELP = """Evaluate a model on an MVTec-AD layout (test/<type>, ground_truth/<type>).

Reports image AUROC, pixel AUROC, PRO (per-region overlap to 30% FPR) and F1 at the model's
calibrated threshold; writes ROC curves as PNG and, with --json, every figure and per-image
result.

Example: shigu inspect eval hazelnut.shigu mvtec/hazelnut --json metrics.json
"""


def _parse_size(text: str) -> tuple[int, int]:
    try:
        parts = [int(v) for v in text.lower().replace("x", ",").split(",")]
    except ValueError:
        parts = []
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or min(parts) < 32 or max(parts) > 2048:
        raise InputError(f"--size {text!r} is not a size", "give e.g. 256 or 320x256 (32-2048)")
    return parts[0], parts[1]


@app.command("train", help=TRAIN_HELP, no_args_is_help=True)
def train_cmd(
    folder: Path = typer.Argument(..., help="Good images, or an MVTec-AD category folder."),
    out: Path = typer.Option(..., "--out", "-o", help="Model file to write (.shigu)."),
    method: str = typer.Option("patchcore", "--method", help="patchcore or padim (lighter)."),
    size: str = typer.Option(
        "256",
        "--size",
        help="Network pixels: the typical image's shorter side with --resize scale; the "
        "input size (256 or HxW) with --resize stretch.",
    ),
    resize: str = typer.Option(
        "auto",
        "--resize",
        help="scale: every image by one factor, shape kept, padded to multiples of 32 "
        "(thin defects, long or mixed-size images); stretch: each image to --size; auto: "
        "scale for PatchCore on the built-in backbone, stretch otherwise.",
    ),
    network: str = typer.Option(
        "lite0",
        "--network",
        help="Built-in backbone: lite0 (EfficientNet-Lite0, fast) or lite2 (EfficientNet-Lite2: "
        "about 1.5x the time per image, better on fine textures; docs/industrial.md).",
    ),
    backbone: Path | None = typer.Option(
        None, "--backbone", help="Your own ONNX feature extractor (NCHW float RGB input)."
    ),
    val_fraction: float = typer.Option(
        0.2, "--val-fraction", help="Share of good images held back to set the threshold."
    ),
    coreset_ratio: float = typer.Option(
        0.01, "--coreset-ratio", help="PatchCore memory bank as a share of all patches."
    ),
    bank_min: int = typer.Option(1024, "--bank-min", help="Smallest memory bank (patches)."),
    bank_max: int = typer.Option(16384, "--bank-max", help="Largest memory bank (patches)."),
    allow_defects: bool = typer.Option(
        False, "--allow-defects", help="Train even on a folder that looks like test defects."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed (coreset, validation split)."),
) -> None:
    from shigu.solutions.industrial.anomaly import train
    from shigu.solutions.industrial.dataset import load_images, training_images
    from shigu.solutions.industrial.efficientnet_lite import NETWORKS
    from shigu.solutions.industrial.features import RESIZE_MODES

    check_output_path(out, (".shigu",), "--out")
    # before any image is read: the same checks train() makes
    if resize not in ("auto", *RESIZE_MODES):
        raise InputError(f"unknown --resize {resize!r}", "use auto, scale or stretch")
    if network not in NETWORKS:
        raise InputError(f"unknown --network {network!r}", f"use one of: {', '.join(NETWORKS)}")
    paths = training_images(folder, allow_defects=allow_defects)
    with progress_bar("reading", len(paths)) as bar:
        images, kept = [], []
        for p in paths:
            loaded, ok = load_images([p])
            images += loaded
            kept += ok
            bar.advance()
    if len(kept) < len(paths):
        console.print(f"[yellow]skipped {len(paths) - len(kept)} unreadable image(s)[/]")
    with progress_bar("features", len(images)) as bar:
        model = train(
            images,
            method=method,
            backbone=backbone,
            size=_parse_size(size),
            val_fraction=val_fraction,
            coreset_ratio=coreset_ratio,
            bank_min=bank_min,
            bank_max=bank_max,
            seed=seed,
            progress=bar.advance,
            resize=resize,
            network=network,
        )
    model.save(out)
    meta = model.meta
    console.print(
        f"{model.method}: trained on {meta['train_images']} images, "
        f"threshold {model.threshold:.3f} from {meta['validation_images']} held-out images"
        + (f", memory bank {meta['bank_size']} patches" if meta.get("bank_size") else "")
        + f" → {out}",
        markup=False,
    )
    console.print(model.embedder.preprocess.describe(), markup=False)


@app.command("predict", help=PREDICT_HELP, no_args_is_help=True)
def predict_cmd(
    model_path: Path = typer.Argument(..., help="A .shigu model from `shigu inspect train`."),
    images: str = typer.Argument(..., help="An image, a folder or a glob pattern."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Folder for overlay PNGs."),
    json_path: Path | None = typer.Option(None, "--json", help="Write results as JSON."),
    min_area: int = typer.Option(16, "--min-area", help="Smallest defect region (pixels)."),
) -> None:
    import cv2

    from shigu.solutions.industrial.anomaly import AnomalyModel
    from shigu.solutions.industrial.evaluate import overlay
    from shigu.sources.images import list_images, read_image

    check_output_path(json_path, (".json",), "--json")
    if out is not None and out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file", "give a folder for the overlay PNGs")
    model = AnomalyModel.load(model_path)
    paths = list_images(images)
    overlay_names = overlay_paths(paths, out) if out is not None else {}
    results: list[dict[str, Any]] = []
    table = Table(title=f"{model.method}, threshold {model.threshold:.3f}", title_justify="left")
    for col in ("image", "score", "verdict", "regions"):
        table.add_column(col, justify="left" if col == "image" else "right")
    with progress_bar("inspecting", len(paths)) as bar:
        for path in paths:
            image = read_image(path)
            if image is None:
                results.append({"path": str(path), "error": "unreadable image"})
                table.add_row(path.name, "-", "[yellow]unreadable[/]", "-")
                bar.advance()
                continue
            pred = model.predict([image], min_area=min_area)[0]
            results.append({"path": str(path), **pred.to_json()})
            if out is not None:
                results[-1]["overlay"] = str(overlay_names[path])
            verdict = "[red]NG[/]" if pred.anomalous else "[green]OK[/]"
            table.add_row(path.name, f"{pred.score:.3f}", verdict, str(len(pred.regions)))
            if out is not None:
                target = overlay_names[path]
                target.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(target), overlay(image, pred, model.threshold))
            bar.advance()
    console.print(table)
    if json_path:
        json_path.write_text(json.dumps({"model": str(model_path), "results": results}, indent=2))
    bad = sum(1 for r in results if r.get("anomalous"))
    console.print(
        f"{bad} of {len(results)} image(s) NG" + (f"; overlays in {out}" if out else ""),
        markup=False,
    )


def overlay_paths(paths: list[Path], out: Path) -> dict[Path, Path]:
    """One overlay PNG per image, never two under one name (see ``output_names``)."""
    from shigu.io.image_writer import output_names

    return output_names(paths, out, suffix="_anomaly", ext=".png")


@app.command("eval", help=EVAL_HELP, no_args_is_help=True)
def eval_cmd(
    model_path: Path = typer.Argument(..., help="A .shigu model."),
    folder: Path = typer.Argument(..., help="MVTec-AD category folder (test/, ground_truth/)."),
    json_path: Path | None = typer.Option(None, "--json", help="Write every figure as JSON."),
    roc: Path | None = typer.Option(None, "--roc", help="ROC plot PNG (default: next to --json)."),
) -> None:
    from shigu.solutions.industrial.anomaly import AnomalyModel
    from shigu.solutions.industrial.dataset import mvtec_test_set
    from shigu.solutions.industrial.evaluate import evaluate

    check_output_path(json_path, (".json",), "--json")
    check_output_path(roc, (".png",), "--roc")
    model = AnomalyModel.load(model_path)
    total = len(mvtec_test_set(folder))
    roc_path = roc or (json_path.with_suffix(".roc.png") if json_path else None)
    with progress_bar("evaluating", total) as bar:
        result = evaluate(model, folder, roc_png=roc_path, progress=bar.advance)
    table = Table(
        title=f"{model.method} on {folder} ({result['images']} images)", title_justify="left"
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("image_auroc", "pixel_auroc", "pro", "f1", "precision", "recall", "threshold"):
        value = result[key]
        table.add_row(key, "-" if value is None else f"{value:.4f}")
    console.print(table)
    if json_path:
        json_path.write_text(json.dumps(result, indent=2))
    if roc_path:
        console.print(f"ROC curves: {roc_path}", markup=False)


@app.command(
    "export-backbone",
    help="Export the ImageNet EfficientNet-Lite0 feature extractor "
    "to ONNX (needs the shigu\\[train] extra), e.g. for use on a machine without torch.",
)
def export_backbone(
    out: Path = typer.Option(..., "--out", "-o", help="ONNX file to write."),
    size: str = typer.Option(
        "any",
        "--size",
        help="Input size: any (height and width any multiples of 32, what --resize scale "
        "uses), 256 or HxW.",
    ),
    network: str = typer.Option("lite0", "--network", help="lite0 or lite2."),
) -> None:
    from shigu.solutions.industrial.efficientnet_lite import NETWORKS, export_onnx

    check_output_path(out, (".onnx",), "--out")
    if network not in NETWORKS:
        raise InputError(f"unknown --network {network!r}", f"use one of: {', '.join(NETWORKS)}")
    fixed = None if size.strip().lower() == "any" else _parse_size(size)
    export_onnx(out, size=fixed, network=network)
    shape = "any multiple of 32" if fixed is None else f"{fixed[0]}x{fixed[1]}"
    console.print(
        f"wrote {out} (outputs s8, s16; input images: float RGB 0-255, NCHW, {shape})",
        markup=False,
    )


def _read(path: str) -> tuple[Path, Any]:
    from shigu.sources.images import read_image

    image = read_image(path)
    if image is None:
        raise InputError(f"cannot read image {path}", "check that it is a JPEG/PNG/BMP/TIFF file")
    return Path(path), image


def _each_image(
    spec: str, table: Table, columns: int, unreadable: list[str]
) -> Iterator[tuple[Path, Any]]:
    """(path, image) for every readable image of ``spec``; an unreadable one gets a table row
    and is noted in ``unreadable``, and the command goes on (then exits 1)."""
    from shigu.sources.images import list_images, read_image

    for path in list_images(spec):
        image = read_image(path)
        if image is None:
            unreadable.append(str(path))
            table.add_row(path.name, "[red]unreadable image[/]", *[""] * (columns - 2))
            continue
        yield path, image


def _finish(
    table: Table, results: list[dict[str, Any]], json_path: Path | None, unreadable: list[str]
) -> None:
    console.print(table)
    results += [{"path": p, "error": "unreadable image"} for p in unreadable]
    if json_path:
        json_path.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    if unreadable:
        console_err.print(f"[yellow]{len(unreadable)} image(s) could not be read[/]")
        raise typer.Exit(1)


@app.command("read-codes", no_args_is_help=True)
def read_codes_cmd(
    images: str = typer.Argument(..., help="An image, a folder or a glob pattern."),
    formats: str | None = typer.Option(
        None, "--formats", help="Only these formats, e.g. QRCode,DataMatrix,Code128."
    ),
    json_path: Path | None = typer.Option(None, "--json", help="Write results as JSON."),
) -> None:
    """Read barcodes, QR codes and DataMatrix codes (zxing-cpp), printing text and position.

    Example: shigu inspect read-codes labels/ --formats QRCode,DataMatrix
    """
    from shigu.solutions.industrial.codes import read_codes

    check_output_path(json_path, (".json",), "--json")
    wanted = [f.strip() for f in formats.split(",")] if formats else None
    table = Table(title="codes", title_justify="left")
    for col in ("image", "format", "text", "corners"):
        table.add_column(col)
    results: list[dict[str, Any]] = []
    unreadable: list[str] = []
    for path, image in _each_image(images, table, 4, unreadable):
        codes = read_codes(image, wanted)
        results.append({"path": str(path), "codes": [c.to_json() for c in codes]})
        for c in codes:
            table.add_row(path.name, c.format, c.text, " ".join(f"{x},{y}" for x, y in c.corners))
        if not codes:
            table.add_row(path.name, "-", "[yellow]no code found[/]", "")
    _finish(table, results, json_path, unreadable)


@app.command("ocr", no_args_is_help=True)
def ocr_cmd(
    images: str = typer.Argument(..., help="An image, a folder or a glob pattern."),
    min_confidence: float = typer.Option(0.5, "--min-confidence", help="Drop weaker lines."),
    crop: bool = typer.Option(
        False, "--crop", help="Each image is one pre-cropped text line (skip detection)."
    ),
    json_path: Path | None = typer.Option(None, "--json", help="Write results as JSON."),
) -> None:
    """Read label and serial-number text (PP-OCRv4 via RapidOCR; Chinese and Latin).

    Example: shigu inspect ocr plates/ --json text.json
    """
    from shigu.solutions.industrial.ocr import read_text

    check_output_path(json_path, (".json",), "--json")
    table = Table(title="text", title_justify="left")
    for col in ("image", "text", "confidence"):
        table.add_column(col)
    results: list[dict[str, Any]] = []
    unreadable: list[str] = []
    for path, image in _each_image(images, table, 3, unreadable):
        lines = read_text(image, min_confidence=min_confidence, detect=not crop)
        results.append({"path": str(path), "lines": [t.to_json() for t in lines]})
        for t in lines:
            table.add_row(path.name, t.text, f"{t.confidence:.3f}")
        if not lines:
            table.add_row(path.name, "[yellow]no text found[/]", "")
    _finish(table, results, json_path, unreadable)


def _parse_segment(text: str, what: str) -> tuple[tuple[float, float], tuple[float, float]]:
    try:
        x1, y1, x2, y2 = (float(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"{what} {text!r} is not a segment", "write it as X1,Y1,X2,Y2") from None
    return (x1, y1), (x2, y2)


MEASURE_HELP = """Calibrated measurement with edge calipers (sub-pixel), plus blob counting.

Each --caliper X1,Y1,X2,Y2 crosses the part; the width between the first and last edge on
it is reported in pixels and, when calibrated, millimetres. Calibrate with --mm-per-px, or
with --reference X1,Y1,X2,Y2=MM: a caliper across a reference object of known size.

Example: shigu inspect measure part.png --caliper 20,100,380,100 --reference 10,300,200,300=25.0
"""


@app.command("measure", help=MEASURE_HELP, no_args_is_help=True)
def measure_cmd(
    image_path: Path = typer.Argument(..., help="The image to measure."),
    calipers: list[str] = typer.Option([], "--caliper", help="X1,Y1,X2,Y2 across the part."),
    mm_per_px: float | None = typer.Option(None, "--mm-per-px", help="Known scale."),
    reference: str | None = typer.Option(
        None, "--reference", help="X1,Y1,X2,Y2=MM: caliper over a reference of known size."
    ),
    band: int = typer.Option(5, "--band", help="Caliper band width in pixels (averaged)."),
    min_contrast: float = typer.Option(20.0, "--min-contrast", help="Weakest edge, grey levels."),
    blobs: bool = typer.Option(False, "--blobs", help="Also count blobs (Otsu threshold)."),
    min_area: int = typer.Option(20, "--min-area", help="Smallest blob, pixels."),
    json_path: Path | None = typer.Option(None, "--json", help="Write results as JSON."),
) -> None:
    from shigu.solutions.industrial.measure import (
        Calibration,
        caliper,
        count_blobs,
        width_between_edges,
    )

    check_output_path(json_path, (".json",), "--json")
    if not calipers and not blobs:
        raise InputError("nothing to measure", "add --caliper X1,Y1,X2,Y2 and/or --blobs")
    if mm_per_px is not None and reference is not None:
        raise InputError("give either --mm-per-px or --reference, not both")
    _, image = _read(str(image_path))
    calib = None
    result: dict[str, Any] = {"image": str(image_path)}
    if mm_per_px is not None:
        if mm_per_px <= 0:
            raise InputError(f"--mm-per-px must be positive, got {mm_per_px}")
        calib = Calibration(mm_per_px)
    elif reference is not None:
        seg, _, mm = reference.partition("=")
        try:
            known = float(mm)
        except ValueError:
            raise InputError(
                f"--reference {reference!r} needs =MM at the end", "e.g. 10,300,200,300=25.0"
            ) from None
        p1, p2 = _parse_segment(seg, "--reference")
        ref_px = width_between_edges(caliper(image, p1, p2, band, min_contrast=min_contrast))
        calib = Calibration.from_reference(ref_px, known)
        result["reference"] = {"px": ref_px, "mm": known}
    if calib:
        result["mm_per_px"] = calib.mm_per_px
    table = Table(title=f"measurements: {image_path.name}", title_justify="left")
    for col in ("caliper", "edges", "width px", "width mm"):
        table.add_column(col, justify="right")
    result["calipers"] = []
    for text in calipers:
        p1, p2 = _parse_segment(text, "--caliper")
        edges = caliper(image, p1, p2, band, min_contrast=min_contrast)
        width = width_between_edges(edges)
        width_mm = calib.to_mm(width) if calib else None
        result["calipers"].append(
            {
                "segment": text,
                "edges": [e.to_json() for e in edges],
                "width_px": width,
                "width_mm": width_mm,
            }
        )
        shown = "-" if width_mm is None else f"{width_mm:.3f}"
        table.add_row(text, str(len(edges)), f"{width:.3f}", shown)
    if calipers:
        console.print(table)
    if blobs:
        found = count_blobs(image, min_area=min_area)
        result["blobs"] = [
            {"x": b.x, "y": b.y, "area": b.area, "bbox": list(b.bbox)} for b in found
        ]
        console.print(f"{len(found)} blob(s)")
    if json_path:
        json_path.write_text(json.dumps(result, indent=2))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="inspect")
