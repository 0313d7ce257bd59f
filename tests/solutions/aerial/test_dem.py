"""Ground points over terrain: DEM files (ESRI ASCII grid, GeoTIFF) and rays marched to the
terrain, checked on a synthetic hill with known ground points."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shigu.core.errors import InputError
from shigu.solutions.aerial.dem import Dem, read_dem, write_asc
from shigu.solutions.aerial.geo import (
    CameraPose,
    Intrinsics,
    enu_to_latlon,
    ground_error,
    latlon_to_enu,
    pixels_to_ground,
    rotation,
)

K = Intrinsics.from_hfov(1920, 1080, 70.0)
LAT0, LON0 = 30.2425, 120.15
CELL = 1 / 3600  # one arc-second, ~30 m, as SRTM 1"


def hill(rows: int = 40, cols: int = 40) -> Dem:
    """A 300 m hill (Gaussian, 300 m wide) on a plain at 20 m, centred on (LAT0, LON0)."""
    north, west = LAT0 + rows / 2 * CELL, LON0 - cols / 2 * CELL
    lat = north - (np.arange(rows) + 0.5) * CELL
    lon = west + (np.arange(cols) + 0.5) * CELL
    en = latlon_to_enu(*np.meshgrid(lat, lon, indexing="ij"), LAT0, LON0)
    r2 = en[..., 0] ** 2 + en[..., 1] ** 2
    return Dem(20.0 + 300.0 * np.exp(-r2 / (2 * 300.0**2)), north, west, CELL, CELL)


def _project(points_enu_h: np.ndarray, pose: CameraPose) -> np.ndarray:
    """Pixels of 3D points (east, north metres from the camera; height above sea level)."""
    assert pose.elevation is not None
    world = points_enu_h.copy()
    world[:, 2] -= pose.elevation
    cam = world @ rotation(pose)
    return np.stack([K.fx * cam[:, 0] / cam[:, 2] + K.cx, K.fy * cam[:, 1] / cam[:, 2] + K.cy], 1)


@pytest.mark.parametrize(("yaw", "pitch"), [(0.0, -90.0), (20.0, -50.0), (200.0, -35.0)])
def test_points_on_a_hill_found_within_1m_from_100m_above_its_slope(
    yaw: float, pitch: float
) -> None:
    dem = hill()
    # camera 100 m above the hill's flank, 250 m south-west of the top
    cam_en = np.array([-180.0, -180.0])
    cam_ll = enu_to_latlon(cam_en[:1], cam_en[1:], LAT0, LON0)[0]
    ground_here = float(dem.sample(np.array([cam_ll[0]]), np.array([cam_ll[1]]))[0])
    pose = CameraPose(cam_ll[0], cam_ll[1], 100.0, yaw=yaw, pitch=pitch,
                      elevation=ground_here + 100.0)  # fmt: skip
    rng = np.random.default_rng(0)
    pts = []
    while len(pts) < 25:  # ground points the camera sees
        en = rng.uniform(-150, 150, 2)
        ll = enu_to_latlon(en[:1], en[1:], cam_ll[0], cam_ll[1])[0]
        h = float(dem.sample(np.array([ll[0]]), np.array([ll[1]]))[0])
        px = _project(np.array([[en[0], en[1], h]]), pose)[0]
        in_front = ((np.array([en[0], en[1], h - pose.elevation]) @ rotation(pose))[2]) > 0
        if in_front and 0 <= px[0] < 1920 and 0 <= px[1] < 1080:
            pts.append((en, ll, px))
    pixels = np.array([p[2] for p in pts])
    truth = np.array([p[1] for p in pts])
    found = pixels_to_ground(pixels, pose, K, dem)
    err = np.linalg.norm(
        latlon_to_enu(found[:, 0], found[:, 1], LAT0, LON0)
        - latlon_to_enu(truth[:, 0], truth[:, 1], LAT0, LON0),
        axis=1,
    )
    assert err.max() < 1.0, err
    flat = pixels_to_ground(pixels, pose, K)  # flat ground at the camera's foot misses
    flat_err = np.linalg.norm(
        latlon_to_enu(flat[:, 0], flat[:, 1], LAT0, LON0)
        - latlon_to_enu(truth[:, 0], truth[:, 1], LAT0, LON0),
        axis=1,
    )
    assert np.nanmax(flat_err) > 5.0
    errors = ground_error(pixels, pose, K, dem=dem)
    assert np.isfinite(errors).all() and (errors > 0.5).all()


def test_a_flat_dem_equals_flat_ground_and_rays_leaving_it_have_no_point() -> None:
    flat = Dem(np.full((20, 20), 50.0), LAT0 + 10 * CELL, LON0 - 10 * CELL, CELL, CELL)
    pose = CameraPose(LAT0, LON0, 100.0, yaw=30.0, pitch=-60.0, elevation=150.0)
    pixels = np.array([[960.0, 540.0], [100.0, 1000.0], [1800.0, 900.0]])
    np.testing.assert_allclose(
        pixels_to_ground(pixels, pose, K, flat), pixels_to_ground(pixels, pose, K), atol=1e-7
    )
    shallow = CameraPose(LAT0, LON0, 100.0, pitch=-5.0, elevation=150.0)  # meets it 1 km out
    assert np.isnan(pixels_to_ground(np.array([[960.0, 540.0]]), shallow, K, flat)).all()
    with pytest.raises(ValueError, match="elevation"):
        pixels_to_ground(pixels, CameraPose(LAT0, LON0, 100.0), K, flat)


def test_asc_and_geotiff_read_back_the_same_grid(tmp_path: Path) -> None:
    tifffile = pytest.importorskip("tifffile")
    dem = hill(12, 16)
    heights = dem.heights.copy()
    heights[0, 0] = np.nan
    dem = Dem(heights, dem.north, dem.west, dem.dlat, dem.dlon)
    write_asc(tmp_path / "hill.asc", dem)
    tif = tmp_path / "hill.tif"
    grid = np.where(np.isfinite(heights), heights, -9999.0).astype(np.float32)
    tifffile.imwrite(tif, grid, extratags=[
        (33550, "d", 3, (CELL, CELL, 0.0)),  # ModelPixelScale
        (33922, "d", 6, (0.0, 0.0, 0.0, dem.west, dem.north, 0.0)),  # ModelTiepoint
        (34735, "H", 12, (1, 1, 0, 2, 1024, 0, 1, 2, 1025, 0, 1, 1)),  # geographic, area
        (42113, "s", 6, "-9999"),  # GDAL_NODATA
    ])  # fmt: skip
    for path in (tmp_path / "hill.asc", tif):
        back = read_dem(path)
        assert back.heights.shape == (12, 16)
        assert np.isnan(back.heights[0, 0])
        np.testing.assert_allclose(back.heights[1:], heights[1:], atol=1e-3)
        assert back.north == pytest.approx(dem.north, abs=1e-9)
        assert back.west == pytest.approx(dem.west, abs=1e-9)
        lat, lon = np.array([LAT0 + 0.3 * CELL]), np.array([LON0 - 0.2 * CELL])
        assert back.sample(lat, lon)[0] == pytest.approx(dem.sample(lat, lon)[0], abs=1e-3)


def test_bad_dem_files_get_clear_errors(tmp_path: Path) -> None:
    tifffile = pytest.importorskip("tifffile")
    with pytest.raises(InputError, match="does not exist"):
        read_dem(tmp_path / "none.tif")
    (tmp_path / "x.png").write_bytes(b"x")
    with pytest.raises(InputError, match="unknown elevation format"):
        read_dem(tmp_path / "x.png")
    (tmp_path / "bad.asc").write_text("ncols 2\nnrows 2\ncellsize 1\n1 2\n3 4\n")
    with pytest.raises(InputError, match="not an ESRI ASCII grid"):
        read_dem(tmp_path / "bad.asc")
    utm = tmp_path / "utm.tif"
    tifffile.imwrite(utm, np.zeros((4, 4), np.float32), extratags=[
        (33550, "d", 3, (30.0, 30.0, 0.0)), (33922, "d", 6, (0, 0, 0, 500000.0, 3346000.0, 0)),
        (34735, "H", 8, (1, 1, 0, 1, 1024, 0, 1, 1)),  # projected
    ])  # fmt: skip
    with pytest.raises(InputError, match="projected"):
        read_dem(utm)
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, np.zeros((4, 4), np.float32))
    with pytest.raises(InputError, match="no georeference"):
        read_dem(plain)
