"""``shigu pcd``: 3D point clouds for robot positioning and inspection (Open3D)."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import typer
from rich.table import Table

from shigu.cli._common import check_output_path, console
from shigu.core.errors import InputError

app = typer.Typer(
    help="3D point clouds: read any common format, register a part to its model (the pose a "
    "robot needs), inspect a scan against a reference, fit planes, spheres and cylinders.",
    no_args_is_help=True,
)

UNITS_HELP = "Units of the file's coordinates: m, cm, mm, um, in, ft (files carry none)."
FORMATS = "PLY, PCD, XYZ, TXT/CSV, NPY (N x 3), KITTI .bin, LAS/LAZ; meshes STL, OBJ, OFF, PLY"

INFO_HELP = f"""Describe a point cloud or mesh: points, extent, resolution, normals, colours.

Reads {FORMATS} (meshes are sampled uniformly). The extent is printed in metres after --units
is applied: a 150 mm part read as metres shows 150 m, which is the hint to pass --units mm.

Example: shigu pcd info scan.ply --units mm
"""

CONVERT_HELP = f"""Convert between formats and units, or back-project a depth image.

Reads {FORMATS}; writes PLY, PCD, XYZ or NPY. With --intrinsics, INPUT is a depth image
(16-bit PNG/TIFF, 0 = no return) back-projected with the pinhole model.

Examples:
  shigu pcd convert scan.las scan.ply
  shigu pcd convert part.stl part.ply --units mm --out-units mm --samples 200000
  shigu pcd convert depth.png cloud.ply --intrinsics 525,525,319.5,239.5 --depth-scale 1000
"""

REGISTER_HELP = """Find the rigid transform that maps SOURCE onto TARGET.

Preprocessing picks the voxel size from the clouds themselves (about 4,000 TARGET points) unless
--voxel is given, removes statistical outliers and estimates normals. Global registration runs
FPFH + RANSAC (seeded: the same result on every run) and Fast Global Registration, and, when
neither fits well (planar or symmetric parts), a deterministic multi-start over principal-axis
hypotheses; the best candidate is refined coarse to fine with GICP (or point-to-plane ICP).

The JSON holds "transform" (4x4, maps SOURCE into TARGET: p_target = T @ p_source, in metres),
"fitness", "inlier_rmse", "rotation_deg", "translation", "euler_xyz_deg", "quaternion_wxyz",
"seconds" and the method used.

Examples:
  shigu pcd register scan.ply model.stl --source-units mm --target-units mm --json pose.json
  shigu pcd register bun045.ply bun000.ply --out aligned.ply
"""

INSPECT_HELP = """Inspect a scan against its reference: align, then signed deviation per point.

Deviation is signed along the reference surface's outward normal (positive: material above
nominal). Against a mesh it is the distance to the closest triangle; against a cloud, to the
nearest point's tangent plane. Prints mean, RMS, max and percentiles, and pass/fail per
--tolerance (all points within it, or the share given by --pass-share). --out writes the scan
coloured by deviation (blue below, red above), --png a rendering with a colour bar.

Example: shigu pcd inspect scan.ply model.stl --units mm --tolerance 0.5mm --png dev.png
"""

FIT_HELP = """Fit a plane, sphere or cylinder (RANSAC, then least squares) and measure it.

Plane: normal and flatness (peak-to-valley of the inliers); sphere: centre and diameter;
cylinder: axis, diameter and length. --threshold is the inlier distance (default: 1% of the
cloud's diagonal). Lengths print in --units.

Example: shigu pcd fit shaft.ply --shape cylinder --units mm --threshold 0.2mm
"""

_LENGTH = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_length(text: str, default_units: str, what: str) -> float:
    """A length such as ``0.5mm``, ``2 cm`` or ``0.001`` (in ``default_units``), in metres."""
    from shigu.solutions.spatial.cloud import unit_scale

    match = _LENGTH.match(text)
    if not match:
        raise InputError(f"{what} {text!r} is not a length", "give e.g. 0.5mm, 2cm or 0.001m")
    value = float(match.group(1))
    metres = value * unit_scale(match.group(2) or default_units)
    if not np.isfinite(metres) or metres <= 0:
        raise InputError(f"{what} {text!r} must be a positive length", "give e.g. 0.5mm")
    return metres


def _write_json(path: Path, data: Any) -> None:
    """Write JSON atomically: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2)
    os.replace(tmp, path)


def _fmt_len(metres: float, units: str) -> str:
    from shigu.solutions.spatial.cloud import unit_scale

    return f"{metres / unit_scale(units):.6g} {units}"


@app.command("info", help=INFO_HELP, no_args_is_help=True)
def info_cmd(
    path: Path = typer.Argument(..., help="Point cloud or mesh file."),
    units: str = typer.Option("m", "--units", help=UNITS_HELP),
    json_path: Path | None = typer.Option(None, "--json", help="Write the description as JSON."),
) -> None:
    from shigu.solutions.spatial.cloud import read_cloud
    from shigu.solutions.spatial.registration import point_spacing

    check_output_path(json_path, (".json",), "--json")
    cloud = read_cloud(path, units=units, drop_invalid=True)
    out = {
        "file": str(path),
        "points": len(cloud),
        "units": units,
        "kind": "mesh" if cloud.mesh is not None else "cloud",
        "triangles": len(cloud.mesh.triangles) if cloud.mesh is not None else 0,
        "min_m": cloud.points.min(axis=0).tolist(),
        "max_m": cloud.points.max(axis=0).tolist(),
        "extent_m": cloud.extent.tolist(),
        "diagonal_m": cloud.diagonal,
        "spacing_m": point_spacing(cloud.points),
        "normals": cloud.normals is not None,
        "colors": cloud.colors is not None,
        "notes": cloud.notes,
    }
    table = Table(title=str(path), title_justify="left", show_header=False)
    table.add_row(
        "kind", f"{out['kind']} ({out['triangles']} triangles)" if out["triangles"] else "cloud"
    )
    table.add_row("points", f"{len(cloud):,}")
    table.add_row("extent", " x ".join(_fmt_len(v, units) for v in cloud.extent))
    table.add_row("diagonal", _fmt_len(cloud.diagonal, units))
    table.add_row("resolution", _fmt_len(out["spacing_m"], units) + " (median neighbour distance)")
    table.add_row(
        "normals / colours",
        f"{'yes' if out['normals'] else 'no'} / {'yes' if out['colors'] else 'no'}",
    )
    for note in cloud.notes:
        table.add_row("note", note)
    console.print(table)
    if json_path:
        _write_json(json_path, out)


@app.command("convert", help=CONVERT_HELP, no_args_is_help=True)
def convert_cmd(
    source: Path = typer.Argument(..., help="Input cloud, mesh or depth image."),
    out: Path = typer.Argument(..., help="Output .ply, .pcd, .xyz or .npy."),
    units: str = typer.Option("m", "--units", help=UNITS_HELP),
    out_units: str = typer.Option("m", "--out-units", help="Units to write in."),
    samples: int = typer.Option(100_000, "--samples", min=100, help="Points sampled on a mesh."),
    intrinsics: str | None = typer.Option(
        None, "--intrinsics", help="fx,fy,cx,cy in pixels: INPUT is a depth image."
    ),
    depth_scale: float = typer.Option(
        1000.0, "--depth-scale", min=1e-9, help="Depth image units per metre (1000 = mm)."
    ),
    drop_invalid: bool = typer.Option(False, "--drop-invalid", help="Drop NaN/Inf points."),
) -> None:
    from shigu.solutions.spatial.cloud import (
        WRITE_SUFFIXES,
        depth_to_cloud,
        read_cloud,
        unit_scale,
        write_cloud,
    )

    check_output_path(out, WRITE_SUFFIXES, "output")
    unit_scale(out_units)
    if intrinsics is not None:
        try:
            fx, fy, cx, cy = (float(v) for v in intrinsics.split(","))
        except ValueError:
            raise InputError(
                f"--intrinsics {intrinsics!r} is not fx,fy,cx,cy", "e.g. 525,525,319.5,239.5"
            ) from None
        cloud = depth_to_cloud(source, fx, fy, cx, cy, depth_scale)
    else:
        cloud = read_cloud(source, units=units, mesh_samples=samples, drop_invalid=drop_invalid)
    write_cloud(out, cloud, units=out_units)
    console.print(f"wrote {out} ({len(cloud):,} points, in {out_units})")


def _read_pair(
    source: Path, target: Path, source_units: str, target_units: str, drop_invalid: bool
) -> tuple[Any, Any]:
    from shigu.solutions.spatial.cloud import read_cloud

    return (
        read_cloud(source, units=source_units, drop_invalid=drop_invalid),
        read_cloud(target, units=target_units, drop_invalid=drop_invalid),
    )


def _options(voxel: str | None, units: str, method: str, refine: str, seed: int) -> Any:
    from shigu.solutions.spatial.registration import RegistrationOptions

    return RegistrationOptions(
        voxel=parse_length(voxel, units, "--voxel") if voxel else None,
        method=method,
        refine=refine,
        seed=seed,
    )


@app.command("register", help=REGISTER_HELP, no_args_is_help=True)
def register_cmd(
    source: Path = typer.Argument(..., help="The cloud to move (a scan of the part)."),
    target: Path = typer.Argument(..., help="The cloud to move it onto (the model or scene)."),
    json_path: Path | None = typer.Option(None, "--json", help="Write the pose as JSON."),
    out: Path | None = typer.Option(None, "--out", help="Write SOURCE aligned (.ply/.pcd/...)."),
    units: str = typer.Option("m", "--units", help="Units of both files. " + UNITS_HELP),
    source_units: str | None = typer.Option(None, "--source-units", help="SOURCE's units."),
    target_units: str | None = typer.Option(None, "--target-units", help="TARGET's units."),
    voxel: str | None = typer.Option(
        None,
        "--voxel",
        help="Coarse voxel size, e.g. 5mm (default: leaves about 4,000 TARGET points).",
    ),
    method: str = typer.Option("auto", "--method", help="auto, ransac, fgr or multistart."),
    refine: str = typer.Option("gicp", "--refine", help="gicp, point-to-plane or none."),
    seed: int = typer.Option(0, "--seed", help="RANSAC seed (same seed, same result)."),
    drop_invalid: bool = typer.Option(False, "--drop-invalid", help="Drop NaN/Inf points."),
) -> None:
    from shigu.solutions.spatial.cloud import WRITE_SUFFIXES, write_cloud
    from shigu.solutions.spatial.registration import register

    check_output_path(json_path, (".json",), "--json")
    check_output_path(out, WRITE_SUFFIXES, "--out")
    if method == "icp":
        raise InputError(
            "--method icp needs a starting pose", "use auto, ransac, fgr or multistart"
        )
    src, tgt = _read_pair(
        source, target, source_units or units, target_units or units, drop_invalid
    )
    result = register(src, tgt, _options(voxel, units, method, refine, seed))
    data = result.to_dict()
    table = Table(title=f"{source.name} -> {target.name}", title_justify="left", show_header=False)
    table.add_row("rotation", f"{data['rotation_deg']:.3f} deg")
    table.add_row("translation", ", ".join(f"{v:.6g}" for v in data["translation"]) + " m")
    table.add_row("euler xyz", ", ".join(f"{v:.3f}" for v in data["euler_xyz_deg"]) + " deg")
    table.add_row("fitness", f"{data['fitness']:.3f} (within {data['threshold']:.4g} m)")
    table.add_row("inlier rmse", f"{data['inlier_rmse']:.4g} m")
    table.add_row("method", f"{data['method']} (voxel {data['voxel']:.4g} m)")
    table.add_row("time", f"{data['seconds']:.2f} s")
    console.print(table)
    if json_path:
        _write_json(json_path, data)
    if out:
        write_cloud(out, src.transformed(result.transform), units=source_units or units)


@app.command("inspect", help=INSPECT_HELP, no_args_is_help=True)
def inspect_cmd(
    scan: Path = typer.Argument(..., help="The measured scan."),
    reference: Path = typer.Argument(..., help="The nominal part: a mesh (best) or a cloud."),
    tolerance: list[str] = typer.Option(
        [], "--tolerance", help="A tolerance such as 0.5mm (repeat for several)."
    ),
    pass_share: float = typer.Option(
        1.0, "--pass-share", min=0.0, max=1.0, help="Share of points within tolerance to pass."
    ),
    units: str = typer.Option("m", "--units", help="Units of both files. " + UNITS_HELP),
    scan_units: str | None = typer.Option(None, "--scan-units", help="SCAN's units."),
    reference_units: str | None = typer.Option(None, "--reference-units", help="REFERENCE's."),
    no_align: bool = typer.Option(False, "--no-align", help="The scan is already aligned."),
    json_path: Path | None = typer.Option(None, "--json", help="Write statistics as JSON."),
    out: Path | None = typer.Option(None, "--out", help="Write the deviation-coloured scan."),
    png: Path | None = typer.Option(None, "--png", help="Write a rendering with a colour bar."),
    voxel: str | None = typer.Option(None, "--voxel", help="Coarse voxel for the alignment."),
    drop_invalid: bool = typer.Option(False, "--drop-invalid", help="Drop NaN/Inf points."),
) -> None:
    from shigu.solutions.spatial.cloud import WRITE_SUFFIXES, Cloud, write_cloud
    from shigu.solutions.spatial.inspection import colour_limit, deviation_colors, inspect_against
    from shigu.solutions.spatial.render import render_deviation_png

    check_output_path(json_path, (".json",), "--json")
    check_output_path(out, WRITE_SUFFIXES, "--out")
    check_output_path(png, (".png",), "--png")
    tolerances = [parse_length(t, units, "--tolerance") for t in tolerance]
    src, ref = _read_pair(
        scan, reference, scan_units or units, reference_units or units, drop_invalid
    )
    result = inspect_against(
        src,
        ref,
        tolerances,
        align=not no_align,
        options=_options(voxel, units, "auto", "gicp", 0),
    )
    stats = result.stats()
    verdicts = result.verdicts(pass_share)
    shown = scan_units or units
    table = Table(title=f"{scan.name} vs {reference.name}", title_justify="left")
    table.add_column("statistic")
    table.add_column(f"deviation ({shown})", justify="right")
    for key in ("mean", "rms", "std", "min", "max", "max_abs", "p1", "p5", "p50", "p95", "p99"):
        table.add_row(key, _fmt_len(stats[key], shown).rsplit(" ", 1)[0])
    console.print(table)
    for v in verdicts:
        word = "[green]PASS[/]" if v["passed"] else "[red]FAIL[/]"
        console.print(
            f"{word} tolerance ±{_fmt_len(v['tolerance'], shown)}: "
            f"{100 * v['within_share']:.2f}% of points within"
        )
    limit = colour_limit(result)
    if out:
        coloured = Cloud(result.aligned.points, None, deviation_colors(result.deviations, limit))
        write_cloud(out, coloured, units=shown)
    if png:
        from shigu.solutions.spatial.cloud import unit_scale

        render_deviation_png(
            result.aligned.points,
            result.deviations,
            limit,
            png,
            title=f"{scan.name} vs {reference.name}",
            unit=shown,
            unit_scale=1 / unit_scale(shown),
        )
    if json_path:
        data: dict[str, Any] = {"stats_m": stats, "tolerances": verdicts}
        if result.registration is not None:
            data["registration"] = result.registration.to_dict()
        _write_json(json_path, data)
    if verdicts and not all(v["passed"] for v in verdicts):
        raise typer.Exit(1)


@app.command("fit", help=FIT_HELP, no_args_is_help=True)
def fit_cmd(
    path: Path = typer.Argument(..., help="Point cloud (or mesh) of the feature."),
    shape: str = typer.Option(..., "--shape", help="plane, sphere or cylinder."),
    threshold: str | None = typer.Option(None, "--threshold", help="Inlier distance, e.g. 0.2mm."),
    units: str = typer.Option("m", "--units", help=UNITS_HELP),
    json_path: Path | None = typer.Option(None, "--json", help="Write the fit as JSON."),
    drop_invalid: bool = typer.Option(False, "--drop-invalid", help="Drop NaN/Inf points."),
) -> None:
    from shigu.solutions.spatial.cloud import read_cloud
    from shigu.solutions.spatial.fitting import FITTERS

    if shape not in FITTERS:
        raise InputError(f"unknown shape {shape!r}", f"use {', '.join(FITTERS)}")
    check_output_path(json_path, (".json",), "--json")
    thr = parse_length(threshold, units, "--threshold") if threshold else None
    cloud = read_cloud(path, units=units, drop_invalid=drop_invalid)
    fit = FITTERS[shape](cloud.points, thr)
    table = Table(title=f"{shape} fit of {path.name}", title_justify="left", show_header=False)
    lengths = {"d", "flatness", "radius", "diameter", "length"}
    for key, value in fit.params.items():
        if key in lengths:
            table.add_row(key, _fmt_len(float(value), units))
        else:
            table.add_row(key, ", ".join(f"{v:.6g}" for v in np.ravel(value)))
    table.add_row("inliers", f"{fit.inliers:,} ({100 * fit.inlier_share:.1f}%)")
    table.add_row("rms residual", _fmt_len(fit.rms, units))
    console.print(table)
    if json_path:
        _write_json(json_path, fit.to_dict())


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="pcd")
