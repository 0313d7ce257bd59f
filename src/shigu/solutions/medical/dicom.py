"""DICOM series: find them in a folder, sort slices in space, and build one `Volume`.

Slices are grouped by SeriesInstanceUID and sorted by their position along the slice normal
(never by file name or instance number). The modality LUT (rescale slope and intercept) is
applied, so CT voxels are Hounsfield units. Compressed transfer syntaxes decode through
pydicom's pixel handlers (pylibjpeg: JPEG, JPEG-LS, JPEG 2000, RLE).

Geometry that NIfTI cannot hold is resampled, never silently stored wrong:

- gantry tilt (slices stacked along the table, not along their normal): each slice is shifted
  in its plane so the volume stacks along the normal (the grid grows by the shift);
- uneven slice spacing: slices are interpolated onto an even spacing, the smallest gap in the
  series, with at most twice the original slice count (dcm2niix's ``_Eq`` rule);
- a missing slice (one gap a whole multiple of the others) is refused unless ``allow_gaps``.

Both resamplings are linear (rows, then slices), as dcm2niix's ``_Tilt_Eq`` output, and the
`Volume.notes` say what was done.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shigu.core.errors import InputError
from shigu.solutions.medical.volume import LPS_TO_RAS, Volume

log = logging.getLogger(__name__)

# a gap this much larger than the typical one, and a whole multiple of it, is a missing slice
_GAP_TOLERANCE = 0.1
# spacings within this many mm of each other count as equal (dcm2niix uses 0.2 mm)
_SPACING_TOLERANCE_MM = 0.2


@dataclass
class SliceHeader:
    """One DICOM file's header (no pixels), enough to group and sort."""

    path: Path
    dataset: Any  # pydicom.Dataset read without pixel data

    @property
    def series_uid(self) -> str:
        return str(self.dataset.get("SeriesInstanceUID", ""))

    @property
    def has_image(self) -> bool:
        ds = self.dataset
        return "Rows" in ds and "Columns" in ds and "ImagePositionPatient" in ds


@dataclass
class SeriesInfo:
    """What a user needs to know of one series in a folder."""

    uid: str
    files: list[Path]
    modality: str
    description: str
    number: int | None
    rows: int
    columns: int


def _read_header(path: Path) -> Any | None:
    """The dataset without pixel data, or None when the file is not DICOM at all."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        return pydicom.dcmread(path, stop_before_pixels=True)
    except InvalidDicomError:
        return None
    except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(
            f"{path} is a damaged DICOM file ({type(exc).__name__}: {exc})",
            "remove or replace the file, then run again",
        ) from exc


def _candidate_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError(f"{path} does not exist", "give a DICOM folder or file")
    return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))


def scan(path: Path) -> tuple[list[SliceHeader], list[Path]]:
    """Every DICOM image header under ``path``, and the files that are not DICOM."""
    headers: list[SliceHeader] = []
    skipped: list[Path] = []
    for file in _candidate_files(path):
        ds = _read_header(file)
        if ds is None or getattr(ds, "Modality", None) == "SR":
            skipped.append(file)
            continue
        headers.append(SliceHeader(file, ds))
    return headers, skipped


def list_series(headers: Iterable[SliceHeader]) -> list[SeriesInfo]:
    """Image series in ``headers``, in series-number order."""
    groups: dict[str, list[SliceHeader]] = {}
    for h in headers:
        if h.has_image:
            groups.setdefault(h.series_uid, []).append(h)
    out = []
    for uid, members in groups.items():
        ds = members[0].dataset
        number = ds.get("SeriesNumber")
        out.append(
            SeriesInfo(
                uid=uid,
                files=[m.path for m in members],
                modality=str(ds.get("Modality", "")),
                description=str(ds.get("SeriesDescription", "")),
                number=int(number) if number not in (None, "") else None,
                rows=int(ds.Rows),
                columns=int(ds.Columns),
            )
        )
    return sorted(out, key=lambda s: (s.number is None, s.number or 0, s.uid))


def _describe(series: list[SeriesInfo]) -> str:
    return "; ".join(
        f"{s.uid} (#{s.number}, {s.modality}, {len(s.files)} files"
        + (f", {s.description!r})" if s.description else ")")
        for s in series
    )


def pick_series(path: Path, series_uid: str | None = None) -> tuple[list[SliceHeader], list[Path]]:
    """The headers of the one series to read from ``path`` (refusing an ambiguous folder)."""
    headers, skipped = scan(path)
    series = list_series(headers)
    if not series:
        raise InputError(f"no DICOM images found in {path}", "give a folder of DICOM slices")
    if series_uid is not None:
        chosen = [s for s in series if s.uid == series_uid or str(s.number) == series_uid]
        if len(chosen) != 1:
            raise InputError(
                f"series {series_uid} is not in {path} (or names several)",
                f"choose one of: {_describe(series)}",
            )
    elif len(series) > 1:
        raise InputError(
            f"{path} holds {len(series)} series",
            f"choose one with --series UID or number: {_describe(series)}",
        )
    else:
        chosen = series
    uid = chosen[0].uid
    return [h for h in headers if h.has_image and h.series_uid == uid], skipped


def _vec(value: Any, n: int, what: str, path: Path) -> np.ndarray:
    try:
        v = np.array([float(x) for x in value], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{path}: {what} is not numeric", "the file is damaged") from exc
    if v.shape != (n,) or not np.all(np.isfinite(v)):
        raise InputError(f"{path}: {what} should be {n} finite numbers", "the file is damaged")
    return v


@dataclass
class _Geometry:
    row_dir: np.ndarray  # direction of increasing column index (along a row), LPS
    col_dir: np.ndarray  # direction of increasing row index, LPS
    normal: np.ndarray
    row_mm: float  # spacing between rows (PixelSpacing[0])
    col_mm: float  # spacing between columns (PixelSpacing[1])
    positions: np.ndarray  # (n, 3) ImagePositionPatient, sorted along the normal
    distances: np.ndarray  # (n,) along the normal from the first slice


def _geometry(headers: list[SliceHeader]) -> tuple[_Geometry, list[SliceHeader]]:
    first = headers[0]
    iop = _vec(first.dataset.ImageOrientationPatient, 6, "ImageOrientationPatient", first.path)
    spacing = _vec(first.dataset.get("PixelSpacing", [1, 1]), 2, "PixelSpacing", first.path)
    shape = (int(first.dataset.Rows), int(first.dataset.Columns))
    for h in headers[1:]:
        other = _vec(h.dataset.ImageOrientationPatient, 6, "ImageOrientationPatient", h.path)
        if np.abs(other - iop).max() > 1e-3:
            raise InputError(
                f"{h.path} is oriented differently from {first.path} in the same series",
                "a localiser or reformat is mixed in: remove it, or convert slices separately",
            )
        if (int(h.dataset.Rows), int(h.dataset.Columns)) != shape:
            raise InputError(
                f"{h.path} has another image size than {first.path}",
                "remove the odd file from the series",
            )
    row_dir, col_dir = iop[:3] / np.linalg.norm(iop[:3]), iop[3:] / np.linalg.norm(iop[3:])
    normal = np.cross(row_dir, col_dir)
    positions = np.array(
        [_vec(h.dataset.ImagePositionPatient, 3, "ImagePositionPatient", h.path) for h in headers]
    )
    along = positions @ normal
    order = np.argsort(along, kind="stable")
    sorted_headers = [headers[i] for i in order]
    positions, along = positions[order], along[order]
    dup = np.flatnonzero(np.diff(along) < 1e-3)
    if dup.size:
        a, b = sorted_headers[dup[0]].path, sorted_headers[dup[0] + 1].path
        raise InputError(
            f"{a.name} and {b.name} lie at the same position ({along[dup[0]]:.2f} mm)",
            "the folder holds a time series or a duplicate: keep one file per position",
        )
    geo = _Geometry(
        row_dir, col_dir, normal, float(spacing[0]), float(spacing[1]), positions, along - along[0]
    )
    return geo, sorted_headers


def _pixels(header: SliceHeader) -> np.ndarray:
    """One slice's stored values through the modality LUT (float64)."""
    import pydicom

    try:
        ds = pydicom.dcmread(header.path)
        raw = ds.pixel_array
    except Exception as exc:  # pydicom raises many types for damaged or truncated pixel data
        raise InputError(
            f"cannot decode the pixels of {header.path} ({type(exc).__name__}: {exc})",
            "the file is truncated or uses a codec that is not installed "
            "(pip install 'pylibjpeg[all]')",
        ) from exc
    if raw.ndim != 2:
        raise InputError(
            f"{header.path} is not a single-frame greyscale slice",
            "multi-frame and colour DICOM are not read as series",
        )
    slope = float(ds.get("RescaleSlope", 1) or 1)
    intercept = float(ds.get("RescaleIntercept", 0) or 0)
    if slope == 1.0 and intercept.is_integer() and np.issubdtype(raw.dtype, np.integer):
        return raw.astype(np.int32) + int(intercept)  # CT's usual case: stay integer
    return raw.astype(np.float64) * slope + intercept


def _check_gaps(geo: _Geometry, headers: list[SliceHeader], allow_gaps: bool) -> None:
    steps = np.diff(geo.distances)
    if steps.size < 2:
        return
    typical = float(np.median(steps))
    ratio = steps / typical
    whole = np.round(ratio)
    missing = np.flatnonzero((whole >= 2) & (np.abs(ratio - whole) < _GAP_TOLERANCE))
    uneven_elsewhere = np.abs(np.delete(steps, missing) - typical).max(initial=0.0)
    if missing.size and uneven_elsewhere <= _SPACING_TOLERANCE_MM and not allow_gaps:
        i = int(missing[0])
        count = int(whole[i]) - 1
        raise InputError(
            f"{count} slice(s) missing between {headers[i].path.name} and "
            f"{headers[i + 1].path.name} (a {steps[i]:.2f} mm gap in {typical:.2f} mm spacing)",
            "copy the missing file(s) into the folder, or pass --allow-gaps to interpolate",
        )


def _tilt_shifts(geo: _Geometry) -> np.ndarray:
    """Per slice, its in-plane offset (in rows) from the stack along the normal."""
    offsets = (geo.positions - geo.positions[0]) @ geo.col_dir
    return np.asarray(offsets / geo.row_mm)


def _even_distances(distances: np.ndarray) -> np.ndarray:
    """Even slice positions covering ``distances``: the smallest gap, at most 2n slices."""
    n = len(distances)
    smallest = float(np.diff(distances).min())
    extent = float(distances[-1])
    count = math.floor(extent / smallest + 1e-6) + 1
    if count > 2 * n:
        count = 2 * n
    step = extent / (count - 1)
    return np.arange(count) * step


def _resample(
    stack: np.ndarray, shifts: np.ndarray, distances: np.ndarray, targets: np.ndarray, fill: float
) -> tuple[np.ndarray, int]:
    """Linear resampling of ``stack[k, row, col]``: rows shifted by ``shifts[k]`` onto a common
    grid, then slices interpolated at ``targets`` (mm along the normal). Returns the new stack
    and the grid's first row relative to the input's row 0."""
    n, rows, cols = stack.shape
    low = math.floor(min(0.0, float(shifts.min())) + 1e-6)
    high = math.ceil(max(0.0, float(shifts.max())) - 1e-6)
    out_rows = rows + high - low
    grid = np.arange(out_rows, dtype=np.float64) + low
    shifted = np.full((n, out_rows, cols), fill, dtype=np.float32)
    for k in range(n):
        src = grid - shifts[k]  # input row at each output row
        # row 0 (the top, the last one in NIfTI's bottom-up order) holds for one row beyond
        # it, as dcm2niix's tilt correction does
        inside = (src > -1.0) & (src <= rows - 1 + 1e-6)
        base = np.floor(src[inside])
        frac = (src[inside] - base)[:, None]
        lo = np.clip(base.astype(int), 0, rows - 1)
        hi = np.clip(base.astype(int) + 1, 0, rows - 1)
        plane = stack[k].astype(np.float32, copy=False)
        weight = frac.astype(np.float32)
        shifted[k, inside] = plane[lo] * (1 - weight) + plane[hi] * weight
    if targets is distances:
        return shifted, low
    upper = np.clip(np.searchsorted(distances, targets - 1e-6), 1, n - 1)
    lower = upper - 1
    span = distances[upper] - distances[lower]
    weights = np.clip((targets - distances[lower]) / span, 0.0, 1.0).astype(np.float32)
    out = np.empty((len(targets), out_rows, cols), dtype=np.float32)
    for t, (a, b, w) in enumerate(zip(lower, upper, weights, strict=True)):
        np.multiply(shifted[a], 1 - w, out=out[t])
        out[t] += shifted[b] * w
    return out, low


def _store_dtype(values: np.ndarray) -> np.ndarray:
    """int16 when the values are whole numbers in range (CT HU), else float32."""
    if np.issubdtype(values.dtype, np.integer):
        lo, hi = int(values.min(initial=0)), int(values.max(initial=0))
        if lo >= -32768 and hi <= 32767:
            return values.astype(np.int16)
        if lo >= 0 and hi <= 65535:
            return values.astype(np.uint16)
        return values.astype(np.float32)
    rounded = np.round(values)
    if np.abs(values - rounded).max(initial=0.0) < 1e-3:
        lo, hi = rounded.min(initial=0), rounded.max(initial=0)
        if lo >= -32768 and hi <= 32767:
            return rounded.astype(np.int16)
        if lo >= 0 and hi <= 65535:
            return rounded.astype(np.uint16)
    return values.astype(np.float32)


def load_series(path: Path, series_uid: str | None = None, *, allow_gaps: bool = False) -> Volume:
    """Read the DICOM series in ``path`` as a `Volume` in dcm2niix's voxel layout."""
    headers, skipped = pick_series(path, series_uid)
    if skipped:
        log.warning("skipped %d non-image or non-DICOM file(s), e.g. %s", len(skipped), skipped[0])
    notes: list[str] = []
    if len(headers) == 1:
        return _single_slice(headers[0], notes)
    geo, headers = _geometry(headers)
    _check_gaps(geo, headers, allow_gaps)
    stack = np.stack([_pixels(h) for h in headers])
    shifts = _tilt_shifts(geo)
    steps = np.diff(geo.distances)
    tilted = np.abs(shifts).max() > 0.01
    uneven = float(steps.max() - steps.min()) > _SPACING_TOLERANCE_MM
    targets = _even_distances(geo.distances) if uneven else geo.distances
    if tilted or uneven:
        whole = np.issubdtype(stack.dtype, np.integer) or bool(np.all(stack == np.round(stack)))
        stack, first_row = _resample(stack, shifts, geo.distances, targets, float(stack.min()))
        if whole:  # integer input (CT HU) stays integer, rounded as dcm2niix does
            stack = np.round(stack).astype(np.int32)
    else:
        first_row = 0
    if tilted:
        tilt = math.degrees(
            math.atan2(abs(float(shifts[-1])) * geo.row_mm, float(geo.distances[-1]))
        )
        notes.append(
            f"gantry tilt of {tilt:.1f} degrees corrected: slices shifted in plane "
            f"onto a grid along their normal ({stack.shape[1]} rows)"
        )
    if uneven:
        notes.append(
            f"uneven slice spacing ({steps.min():.2f} to {steps.max():.2f} mm) resampled to "
            f"{len(targets)} slices every {targets[1] - targets[0]:.3f} mm (linear)"
        )
    dz = float(targets[1] - targets[0]) if len(targets) > 1 else 1.0
    origin = geo.positions[0] + first_row * geo.row_mm * geo.col_dir
    slice_step = geo.normal * dz  # slices are sorted along the normal
    rows = stack.shape[1]
    # dcm2niix's layout: i = column, j = row counted from the bottom, k = slice
    lps = np.eye(4)
    lps[:3, 0] = geo.row_dir * geo.col_mm
    lps[:3, 1] = -geo.col_dir * geo.row_mm
    lps[:3, 2] = slice_step
    lps[:3, 3] = origin + (rows - 1) * geo.row_mm * geo.col_dir
    data = np.ascontiguousarray(stack[:, ::-1, :].transpose(2, 1, 0))
    files = [] if (tilted or uneven) else [h.path for h in headers]
    return Volume(
        _store_dtype(data),
        LPS_TO_RAS @ lps,
        series_meta(headers[0].dataset),
        notes,
        files,
        file_window(headers[0].dataset),
    )


def _single_slice(header: SliceHeader, notes: list[str]) -> Volume:
    geo, _ = _geometry([header])
    thickness = float(header.dataset.get("SliceThickness", 1) or 1)
    pixels = _pixels(header)
    rows = pixels.shape[0]
    lps = np.eye(4)
    lps[:3, 0] = geo.row_dir * geo.col_mm
    lps[:3, 1] = -geo.col_dir * geo.row_mm
    lps[:3, 2] = geo.normal * thickness
    lps[:3, 3] = geo.positions[0] + (rows - 1) * geo.row_mm * geo.col_dir
    data = np.ascontiguousarray(pixels[::-1, :].T[:, :, None])
    notes.append("a single slice: the third axis is its slice thickness")
    return Volume(
        _store_dtype(data),
        LPS_TO_RAS @ lps,
        series_meta(header.dataset),
        notes,
        [header.path],
        file_window(header.dataset),
    )


def file_window(ds: Any) -> tuple[float, float] | None:
    """The first window (centre, width) the file suggests (its VOI LUT function), if any."""
    centre, width = ds.get("WindowCenter"), ds.get("WindowWidth")
    if centre is None or width is None:
        return None
    try:
        c = float(centre[0] if not isinstance(centre, str | float | int) else centre)
        w = float(width[0] if not isinstance(width, str | float | int) else width)
    except (TypeError, ValueError, IndexError):
        return None
    return (c, w) if np.isfinite(c) and np.isfinite(w) and w >= 1 else None


def series_meta(ds: Any) -> dict[str, Any]:
    """The descriptive fields of a series (for `shigu med info` and the JSON sidecar)."""
    from shigu.solutions.medical.sidecar import sidecar_fields

    return sidecar_fields(ds)
