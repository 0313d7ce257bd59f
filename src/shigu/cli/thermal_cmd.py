"""``shigu thermal``: temperatures from radiometric images (FLIR R-JPEG, FFF, SEQ)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from shigu.cli._common import (
    check_output_path,
    console,
    console_err,
    progress_bar,
    progress_option,
)
from shigu.core.errors import InputError

HELP = """Read temperatures from radiometric thermal images.

IMAGE is a FLIR radiometric JPEG (FLIR cameras, DJI Zenmuse XT2/XTR), a FLIR .fff file, a
FLIR .seq radiometric video (one result per frame), a folder or a glob. The raw 16-bit
counts are turned into degrees Celsius with the camera's own Planck calibration and the
emissivity, distance, reflected and atmospheric temperature and humidity saved in the file
(override them with --emissivity, --distance, ...). DJI's own R-JPEGs (H20T, M30T, M3T)
need DJI's Thermal SDK and are refused with a message.

Prints min/max/mean/centre per image; --json writes [{"file", "shape", "celsius_min",
"celsius_max", "celsius_mean", "celsius_center", "camera", "measurements"}]; --out writes a
palette image with a scale bar per image (PNG) and, with --save-celsius, the temperatures as
a 32-bit float TIFF. Measurements are in thermal pixels (the raw image's own size).

Examples:

  shigu thermal IR_0042.jpg

  shigu thermal 'survey/*.jpg' --json temps.json --out palettes/ --palette rainbow

  shigu thermal panel.jpg --spot 80,60 --box 10,10,60,40 --line 0,60,159,60 --emissivity 0.9
"""


def thermal(
    inputs: list[str] = typer.Argument(..., metavar="IMAGE...", help="Files, folders or globs."),
    json_path: Path | None = typer.Option(None, "--json", help="Write the results as JSON."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Folder for palette images."),
    palette: str = typer.Option("iron", "--palette", help="iron, rainbow or grey."),
    span: str | None = typer.Option(
        None, "--span", metavar="LOW,HIGH", help="Palette range in C (default: each image's)."
    ),
    save_celsius: bool = typer.Option(
        False, "--save-celsius", help="With --out: also write <name>_celsius.tiff (float32)."
    ),
    spots: list[str] = typer.Option([], "--spot", metavar="X,Y", help="Spot meter (repeat)."),
    boxes: list[str] = typer.Option([], "--box", metavar="X0,Y0,X1,Y1", help="Box (repeat)."),
    lines: list[str] = typer.Option([], "--line", metavar="X0,Y0,X1,Y1", help="Line profile."),
    emissivity: float | None = typer.Option(None, "--emissivity", min=0.01, max=1.0),
    distance: float | None = typer.Option(None, "--distance", min=0.0, help="Object distance, m."),
    reflected: float | None = typer.Option(None, "--reflected", help="Reflected temperature, C."),
    atmosphere: float | None = typer.Option(None, "--atmosphere", help="Air temperature, C."),
    humidity: float | None = typer.Option(None, "--humidity", min=0.0, max=100.0, help="%."),
    progress: bool = progress_option(),
) -> None:
    from shigu.solutions.thermal import measure
    from shigu.solutions.thermal.palette import PALETTES

    check_output_path(json_path, (".json",), "--json")
    if palette not in PALETTES and palette != "gray":
        raise InputError(f"--palette {palette!r} is unknown", f"choose {', '.join(PALETTES)}")
    low_high = None
    if span is not None:
        try:
            low_high = tuple(measure.parse_coords(span, 2, "span"))
        except ValueError as exc:
            raise InputError(str(exc).replace("X,Y in thermal pixels", "LOW,HIGH in C")) from None
        if low_high[0] >= low_high[1]:
            raise InputError(f"--span {span}: LOW must be below HIGH")
    try:
        wanted = (
            [("spot", measure.parse_coords(s, 2, "spot")) for s in spots]
            + [("box", measure.parse_coords(b, 4, "box")) for b in boxes]
            + [("line", measure.parse_coords(ln, 4, "line")) for ln in lines]
        )
    except ValueError as exc:
        raise InputError(str(exc)) from None
    scene = {"emissivity": emissivity, "distance": distance, "reflected_c": reflected,
             "atmosphere_c": atmosphere,
             "humidity": None if humidity is None else humidity / 100.0}  # fmt: skip
    paths = _inputs(inputs)
    if out is not None:
        from shigu.cli._common import check_writable_folder

        check_writable_folder(out)
    results: list[dict[str, Any]] = []
    failed = 0
    with progress_bar("thermal", len(paths), progress) as bar:
        for path in paths:
            try:
                for entry in _one_file(path, scene, wanted, out, palette, low_high, save_celsius):
                    results.append(entry)
                    _print(entry)
            except InputError as exc:
                failed += 1
                results.append({"file": str(path), "error": exc.one_line()})
                console_err.print(f"error: {escape(exc.one_line())}", highlight=False)
            bar.advance(1)
    if json_path is not None:
        from shigu.io.atomic import atomic_write

        atomic_write(json_path, json.dumps(results, indent=1).encode())
        console.print(f"wrote {json_path}", highlight=False)
    if failed:
        raise typer.Exit(2)


def _inputs(inputs: list[str]) -> list[Path]:
    from shigu.solutions.thermal.rjpeg import list_radiometric

    return [p for text in inputs for p in list_radiometric(text)]


def _one_file(path: Path, scene: dict[str, Any], wanted: list[tuple[str, list[float]]],
              out: Path | None, palette: str, span: tuple[float, ...] | None,
              save_celsius: bool) -> list[dict[str, Any]]:  # fmt: skip
    from shigu.solutions.thermal import measure
    from shigu.solutions.thermal.planck import raw_to_celsius, with_scene
    from shigu.solutions.thermal.rjpeg import read_radiometric, read_seq

    frames = read_seq(path) if path.suffix.lower() == ".seq" else [read_radiometric(path)]
    entries = []
    for n, rad in enumerate(frames):
        cal = with_scene(rad.calibration, **scene)
        try:
            celsius = raw_to_celsius(rad.raw, cal)
        except ValueError as exc:
            raise InputError(f"{path.name}: {exc}") from None
        entry: dict[str, Any] = {"file": str(path)}
        if len(frames) > 1:
            entry["frame"] = n
        entry["shape"] = list(celsius.shape)
        entry.update(measure.image_stats(celsius))
        entry["camera"] = rad.camera
        try:
            entry["measurements"] = [getattr(measure, kind)(celsius, *coords)
                                     for kind, coords in wanted]  # fmt: skip
        except ValueError as exc:
            raise InputError(f"{path.name}: {exc}") from None
        if out is not None:
            _write_images(path, n if len(frames) > 1 else None, celsius, out, palette, span,
                          save_celsius)  # fmt: skip
        entries.append(entry)
    return entries


def _write_images(path: Path, frame: int | None, celsius: Any, out: Path, palette: str,
                  span: tuple[float, ...] | None, save_celsius: bool) -> None:  # fmt: skip
    import cv2
    import numpy as np

    from shigu.solutions.thermal.palette import colourise, with_scale_bar

    stem = path.stem if frame is None else f"{path.stem}_{frame:05d}"
    lo_hi = (float(span[0]), float(span[1])) if span else (float(celsius.min()),
                                                          float(celsius.max()))  # fmt: skip
    image = with_scale_bar(colourise(celsius, palette, lo_hi), lo_hi, palette)
    _ok, png = cv2.imencode(".png", image)
    from shigu.io.atomic import atomic_write

    atomic_write(out / f"{stem}.png", png.tobytes())
    if save_celsius:
        _ok, tiff = cv2.imencode(".tiff", celsius.astype(np.float32))
        atomic_write(out / f"{stem}_celsius.tiff", tiff.tobytes())


def _print(entry: dict[str, Any]) -> None:
    where = f" frame {entry['frame']}" if "frame" in entry else ""
    console.print(
        f"{escape(Path(entry['file']).name)}{where}: {entry['shape'][1]}x{entry['shape'][0]} "
        f"min {entry['celsius_min']:.2f} max {entry['celsius_max']:.2f} "
        f"mean {entry['celsius_mean']:.2f} centre {entry['celsius_center']:.2f} C"
        f" ({entry['camera'].get('model') or 'unknown camera'})",
        highlight=False,
    )
    for m in entry["measurements"]:
        value = m.get("celsius", m.get("celsius_max"))
        console.print(f"  {m['kind']}: {value:.2f} C", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("thermal", help=HELP, no_args_is_help=True)(thermal)
