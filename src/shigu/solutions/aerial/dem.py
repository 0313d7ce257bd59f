"""A digital elevation model: terrain height above sea level on a latitude/longitude grid.

Read from an ESRI ASCII grid (``.asc``, as OpenTopography and many national mapping agencies
export) or a GeoTIFF in geographic coordinates (``.tif``: SRTM, Copernicus GLO-30, ASTER,
read with tifffile: the ``ModelPixelScale`` and ``ModelTiepoint`` tags place the grid).
Heights are sampled bilinearly; no-data cells are NaN and a ray that meets one has no
ground point. Projected (UTM) grids are refused with a clear message: reproject to
EPSG:4326 first (``gdalwarp -t_srs EPSG:4326``).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shigu.core.errors import InputError

_GEOGRAPHIC_KEYS = {1024: 2}  # GTModelTypeGeoKey: 2 = geographic lat/lon


@dataclass(frozen=True)
class Dem:
    """``heights[row, col]`` in metres at latitude ``north - (row + 0.5) * dlat`` and
    longitude ``west + (col + 0.5) * dlon`` (cell centres)."""

    heights: np.ndarray
    north: float
    west: float
    dlat: float
    dlon: float

    def sample(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Bilinear height at each point; NaN outside the grid or on no-data cells."""
        r = (self.north - np.asarray(lat, np.float64)) / self.dlat - 0.5
        c = (np.asarray(lon, np.float64) - self.west) / self.dlon - 0.5
        rows, cols = self.heights.shape
        inside = (r >= 0) & (r <= rows - 1) & (c >= 0) & (c <= cols - 1)
        r0 = np.clip(np.floor(r), 0, max(rows - 2, 0)).astype(np.intp)
        c0 = np.clip(np.floor(c), 0, max(cols - 2, 0)).astype(np.intp)
        r1, c1 = np.minimum(r0 + 1, rows - 1), np.minimum(c0 + 1, cols - 1)
        fr, fc = np.clip(r - r0, 0, 1), np.clip(c - c0, 0, 1)
        h = self.heights
        top = h[r0, c0] * (1 - fc) + h[r0, c1] * fc
        bottom = h[r1, c0] * (1 - fc) + h[r1, c1] * fc
        out: np.ndarray = np.where(inside, top * (1 - fr) + bottom * fr, np.nan)
        return out

    @property
    def cell_metres(self) -> float:
        """The grid's smaller cell side in metres (at its centre latitude)."""
        lat = self.north - self.dlat * self.heights.shape[0] / 2
        return min(self.dlat * 111_320.0, self.dlon * 111_320.0 * math.cos(math.radians(lat)))

    @property
    def range(self) -> tuple[float, float]:
        """Lowest and highest height on the grid."""
        finite = self.heights[np.isfinite(self.heights)]
        return float(finite.min()), float(finite.max())


def read_asc(path: Path) -> Dem:
    """An ESRI ASCII grid in degrees (``ncols nrows xllcorner|xllcenter yllcorner|yllcenter
    cellsize [nodata_value]`` then rows from north to south)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read --dem {path}: {exc.strerror or exc}") from None
    header: dict[str, float] = {}
    i = 0
    while i < len(lines) and lines[i].split() and lines[i].split()[0][0].isalpha():
        key, *value = lines[i].split()
        try:
            header[key.lower()] = float(value[0])
        except (IndexError, ValueError):
            raise InputError(f"--dem {path}: bad header line {lines[i]!r}") from None
        i += 1
    need = {"ncols", "nrows", "cellsize"}
    if not need <= header.keys() or not ({"xllcorner", "xllcenter"} & header.keys()):
        raise InputError(
            f"--dem {path} is not an ESRI ASCII grid (header needs ncols, nrows, "
            "xllcorner/xllcenter, yllcorner/yllcenter, cellsize)"
        )
    try:
        grid = np.loadtxt(lines[i:], dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise InputError(f"--dem {path}: the grid is not all numbers ({exc})") from None
    rows, cols, cell = int(header["nrows"]), int(header["ncols"]), header["cellsize"]
    if grid.shape != (rows, cols):
        raise InputError(f"--dem {path}: the header says {rows}x{cols}, the grid is {grid.shape}")
    west = header.get("xllcorner", header.get("xllcenter", 0.0) - cell / 2)
    south = header.get("yllcorner", header.get("yllcenter", 0.0) - cell / 2)
    if "nodata_value" in header:
        grid[grid == header["nodata_value"]] = np.nan
    return _checked(Dem(grid, south + rows * cell, west, cell, cell), path)


def read_geotiff(path: Path) -> Dem:
    """A single-band GeoTIFF on a latitude/longitude grid."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages.first
            grid = page.asarray().astype(np.float64)
            tags = page.tags
            scale, tie, nodata, keys = (
                tag.value if tag is not None else None
                for tag in (tags.get(name) for name in ("ModelPixelScaleTag",
                            "ModelTiepointTag", "GDAL_NODATA", "GeoKeyDirectoryTag"))
            )  # fmt: skip
            key_values = list(keys) if keys is not None else []
            pixel_is_point = False
            for k in range(4, len(key_values), 4):
                geokey, _, _, value = key_values[k : k + 4]
                if geokey in _GEOGRAPHIC_KEYS and value != _GEOGRAPHIC_KEYS[geokey]:
                    raise InputError(
                        f"--dem {path} is in projected coordinates, not latitude/longitude",
                        "reproject it: gdalwarp -t_srs EPSG:4326 in.tif out.tif",
                    )
                if geokey == 1025 and value == 2:  # GTRasterTypeGeoKey: RasterPixelIsPoint
                    pixel_is_point = True
    except (OSError, ValueError, tifffile.TiffFileError) as exc:
        raise InputError(f"cannot read --dem {path} as a GeoTIFF: {exc}") from None
    if scale is None or tie is None:
        raise InputError(f"--dem {path} has no georeference (ModelPixelScale/ModelTiepoint)")
    if grid.ndim == 3:
        grid = grid[..., 0] if grid.shape[-1] <= 4 else grid[0]
    sx, sy = float(scale[0]), float(scale[1])
    i, j, _, x, y, _ = (float(v) for v in tie[:6])
    west, north = x - i * sx, y + j * sy
    if pixel_is_point:
        west, north = west - sx / 2, north + sy / 2
    if nodata is not None:
        with contextlib.suppress(ValueError):  # an unreadable no-data value: keep all cells
            grid[grid == float(str(nodata).strip("\x00 "))] = np.nan
    return _checked(Dem(grid, north, west, sy, sx), path)


def _checked(dem: Dem, path: Path) -> Dem:
    if dem.heights.size < 4 or min(dem.heights.shape) < 2:
        raise InputError(f"--dem {path} needs at least 2x2 cells")
    if not np.isfinite(dem.heights).any():
        raise InputError(f"--dem {path} holds no heights (every cell is no-data)")
    if not (-90 <= dem.north <= 90.5 and -180.5 <= dem.west <= 360 and 0 < dem.dlat < 5):
        raise InputError(
            f"--dem {path} is not on a latitude/longitude grid (corner {dem.west}, {dem.north})",
            "reproject it to EPSG:4326 first",
        )
    return dem


def read_dem(path: Path) -> Dem:
    """A DEM by file type (.asc or .tif/.tiff)."""
    if not path.is_file():
        raise InputError(f"--dem {path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".asc":
        return read_asc(path)
    if suffix in (".tif", ".tiff"):
        return read_geotiff(path)
    raise InputError(f"--dem {path}: unknown elevation format {suffix!r}", "use .tif or .asc")


def write_asc(path: Path, dem: Dem) -> None:
    """An ESRI ASCII grid (square cells), for tests and for exporting a DEM crop."""
    rows, cols = dem.heights.shape
    grid = np.where(np.isfinite(dem.heights), dem.heights, -9999.0)
    head = (f"ncols {cols}\nnrows {rows}\nxllcorner {dem.west!r}\n"
            f"yllcorner {dem.north - rows * dem.dlat!r}\ncellsize {dem.dlat!r}\n"
            "NODATA_value -9999\n")  # fmt: skip
    body = "\n".join(" ".join(f"{v:.3f}" for v in row) for row in grid)
    path.write_text(head + body + "\n", encoding="utf-8")
