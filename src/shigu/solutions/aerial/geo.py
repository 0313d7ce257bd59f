"""Where on the ground a pixel is: a pinhole camera at a known pose over flat ground.

Conventions (DJI's): yaw clockwise from north, pitch 0 level and -90 straight down, roll
clockwise seen from behind; the camera looks along its optical axis with image x to the
right and y down. Positions are computed in a local east-north-up frame at the camera and
turned into latitude and longitude with the WGS84 radii of curvature there (well under a
centimetre of error per kilometre of offset). The ground is the plane ``altitude`` metres
below the camera (the relative altitude over a flat take-off site), or, given a DEM, the
terrain: each ray is marched from the camera at its height above sea level (``elevation``)
in steps of half a DEM cell until it passes below the terrain, then the crossing is
bisected. The error estimate propagates the stated uncertainties of altitude, angles and
pixel position to metres on the ground by finite differences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from shigu.solutions.aerial.dem import Dem

_A = 6378137.0  # WGS84 semi-major axis
_E2 = 6.69437999014e-3  # first eccentricity squared


@dataclass(frozen=True)
class CameraPose:
    """The camera in the world: position (degrees, metres above the ground) and attitude;
    ``elevation`` (metres above sea level) is needed only over a DEM."""

    latitude: float
    longitude: float
    altitude: float
    yaw: float = 0.0
    pitch: float = -90.0
    roll: float = 0.0
    elevation: float | None = None


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics in pixels."""

    fx: float
    fy: float
    cx: float
    cy: float

    @classmethod
    def from_hfov(cls, width: int, height: int, hfov_deg: float) -> Intrinsics:
        """Square pixels, principal point at the centre, from the horizontal field of view."""
        f = (width / 2) / math.tan(math.radians(hfov_deg) / 2)
        return cls(f, f, width / 2, height / 2)


def rotation(pose: CameraPose) -> np.ndarray:
    """3x3 matrix from camera axes (x right, y down, z forward) to east-north-up."""
    # level, facing north: camera x -> east, y -> down, z -> north
    base = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
    p, r, y = (math.radians(v) for v in (pose.pitch, pose.roll, pose.yaw))
    tilt = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    spin = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    heading = np.array(
        [[math.cos(-y), -math.sin(-y), 0], [math.sin(-y), math.cos(-y), 0], [0, 0, 1]]
    )
    # yaw about up, then pitch about the camera's right axis (the optical axis (0, 0, 1)
    # goes to (0, -sin p, cos p): up in the image for p > 0), then roll about the optical axis
    out: np.ndarray = heading @ base @ tilt @ spin
    return out


def _radii(lat: float) -> tuple[float, float]:
    s = math.sin(math.radians(lat))
    w = 1 - _E2 * s * s
    return _A * (1 - _E2) / w**1.5, _A / math.sqrt(w)  # meridional, prime vertical


def enu_to_latlon(east: np.ndarray, north: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    """(N, 2) latitude, longitude of local offsets in metres from (lat0, lon0)."""
    m, n = _radii(lat0)
    lat = lat0 + np.degrees(north / m)
    lon = lon0 + np.degrees(east / (n * math.cos(math.radians(lat0))))
    return np.stack([lat, lon], axis=-1)


def latlon_to_enu(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    """(N, 2) east, north metres of positions from (lat0, lon0) (the inverse of the above)."""
    m, n = _radii(lat0)
    north = np.radians(np.asarray(lat) - lat0) * m
    east = np.radians(np.asarray(lon) - lon0) * n * math.cos(math.radians(lat0))
    return np.stack([east, north], axis=-1)


def ground_offsets(
    pixels: np.ndarray, pose: CameraPose, k: Intrinsics, dem: Dem | None = None
) -> np.ndarray:
    """(N, 2) east, north metres from the camera of where each pixel's ray meets the
    ground (the flat plane, or the DEM's terrain); NaN for rays at or above the horizon
    and, over a DEM, for rays that leave it before meeting the terrain."""
    px = np.asarray(pixels, np.float64).reshape(-1, 2)
    rays = np.stack([(px[:, 0] - k.cx) / k.fx, (px[:, 1] - k.cy) / k.fy, np.ones(len(px))], axis=1)
    world = rays @ rotation(pose).T
    down = -world[:, 2]
    if dem is not None:
        t = _terrain_hits(world, pose, dem)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(down > 1e-9, pose.altitude / down, np.nan)
    return np.stack([world[:, 0] * t, world[:, 1] * t], axis=1)


_MAX_STEPS = 4096


def _terrain_hits(world: np.ndarray, pose: CameraPose, dem: Dem) -> np.ndarray:
    """Ray parameter t (position = camera + t * ray) of each ray's first crossing below
    the terrain; NaN where there is none."""
    if pose.elevation is None:
        raise ValueError("a DEM needs the camera's elevation above sea level")
    h0 = pose.elevation
    lo, hi = dem.range
    down = -world[:, 2]
    out = np.full(len(world), np.nan)
    ok = down > 1e-9
    if not ok.any() or h0 <= lo:
        return out
    w, d = world[ok], down[ok]
    t0 = np.maximum(0.0, (h0 - hi - 1.0) / d)  # a metre of margin: a flat DEM has lo == hi
    t1 = (h0 - lo + 1.0) / d
    length = np.linalg.norm(w, axis=1)
    span = float(((t1 - t0) * length).max())  # metres along the longest ray
    steps = int(min(_MAX_STEPS, max(2, math.ceil(span / (dem.cell_metres / 2)))))
    frac = np.linspace(0.0, 1.0, steps + 1)
    ts = t0[:, None] + (t1 - t0)[:, None] * frac[None, :]  # (N, steps + 1)

    def clearance(t: np.ndarray, rows: np.ndarray) -> np.ndarray:
        e, n = w[rows, 0, None] * t, w[rows, 1, None] * t
        ll = enu_to_latlon(e.ravel(), n.ravel(), pose.latitude, pose.longitude)
        ground = dem.sample(ll[:, 0], ll[:, 1]).reshape(t.shape)
        result: np.ndarray = h0 - d[rows, None] * t - ground
        return result

    rows = np.arange(len(w))
    c = clearance(ts, rows)
    below = c <= 0
    first = np.argmax(below, axis=1)
    hit = below[rows, first] & (first > 0) & np.isfinite(c[rows, np.maximum(first - 1, 0)])
    a = ts[rows, np.maximum(first - 1, 0)][hit]
    b = ts[rows, first][hit]
    idx = rows[hit]
    for _ in range(30):
        mid = (a + b) / 2
        cm = clearance(mid[:, None], idx)[:, 0]
        above = cm > 0
        a, b = np.where(above, mid, a), np.where(above, b, mid)
    found = np.full(len(w), np.nan)
    found[idx] = (a + b) / 2
    out[ok] = found
    return out


def pixels_to_ground(
    pixels: np.ndarray, pose: CameraPose, k: Intrinsics, dem: Dem | None = None
) -> np.ndarray:
    """(N, 2) latitude, longitude of each pixel's ground point (NaN above the horizon)."""
    off = ground_offsets(pixels, pose, k, dem)
    return enu_to_latlon(off[:, 0], off[:, 1], pose.latitude, pose.longitude)


def ground_to_pixels(east_north: np.ndarray, pose: CameraPose, k: Intrinsics) -> np.ndarray:
    """(N, 2) pixels where ground points (east, north metres from the camera) appear."""
    en = np.asarray(east_north, np.float64).reshape(-1, 2)
    world = np.stack([en[:, 0], en[:, 1], np.full(len(en), -pose.altitude)], axis=1)
    cam = world @ rotation(pose)  # R^T applied to each row
    return np.stack([k.fx * cam[:, 0] / cam[:, 2] + k.cx, k.fy * cam[:, 1] / cam[:, 2] + k.cy],
                    axis=1)  # fmt: skip


@dataclass(frozen=True)
class PoseUncertainty:
    """One-sigma uncertainties: altitude (m), angles (degrees), pixel position (px). The
    defaults are typical of a consumer drone: barometric altitude +-1 m, gimbal +-1 degree,
    compass heading +-2 degrees, box anchor +-2 px."""

    altitude: float = 1.0
    yaw: float = 2.0
    pitch: float = 1.0
    roll: float = 1.0
    pixel: float = 2.0


def ground_error(
    pixels: np.ndarray,
    pose: CameraPose,
    k: Intrinsics,
    sigma: PoseUncertainty | None = None,
    dem: Dem | None = None,
) -> np.ndarray:
    """(N,) one-sigma horizontal error in metres of each ground point, first-order
    propagation of ``sigma`` (independent errors) by finite differences (over a DEM the
    altitude error moves the camera's elevation; the DEM's own error is not included)."""
    s = sigma or PoseUncertainty()
    px = np.asarray(pixels, np.float64).reshape(-1, 2)
    base = ground_offsets(px, pose, k, dem)
    total = np.zeros(len(px))
    height = "elevation" if dem is not None else "altitude"
    for field, step in ((height, s.altitude), ("yaw", s.yaw), ("pitch", s.pitch),
                        ("roll", s.roll)):  # fmt: skip
        if step <= 0:
            continue
        moved = replace(pose, **{field: getattr(pose, field) + step})
        total += np.sum((ground_offsets(px, moved, k, dem) - base) ** 2, axis=1)
    if s.pixel > 0:
        for d in ((s.pixel, 0.0), (0.0, s.pixel)):
            total += np.sum((ground_offsets(px + d, pose, k, dem) - base) ** 2, axis=1)
    out: np.ndarray = np.sqrt(total)
    return out
