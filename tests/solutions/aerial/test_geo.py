# ruff: noqa: E501  (DJI writes each frame's telemetry on one long line)
"""Ground positions from a drone camera, DJI SRT telemetry, GeoJSON and KML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from shigu.core.errors import InputError
from shigu.io.geo import GeoEvent, GeoTrack, write_geojson, write_kml
from shigu.solutions.aerial.geo import (
    CameraPose,
    Intrinsics,
    enu_to_latlon,
    ground_error,
    ground_offsets,
    ground_to_pixels,
    latlon_to_enu,
    pixels_to_ground,
)
from shigu.solutions.aerial.telemetry import Telemetry, parse_srt, read_srt

K = Intrinsics.from_hfov(3840, 2160, 82.0)
WEST_LAKE = (30.2425, 120.1500)


def test_straight_down_image_up_is_north_and_right_is_east() -> None:
    pose = CameraPose(*WEST_LAKE, altitude=100.0, yaw=0.0, pitch=-90.0)
    off = ground_offsets(np.array([[K.cx, K.cy], [K.cx, K.cy - 500], [K.cx + 500, K.cy]]), pose, K)
    np.testing.assert_allclose(off[0], [0, 0], atol=1e-9)
    assert off[1][1] > 20 and abs(off[1][0]) < 1e-6  # up in the image: north
    assert off[2][0] > 20 and abs(off[2][1]) < 1e-6  # right: east
    east = CameraPose(*WEST_LAKE, altitude=100.0, yaw=90.0, pitch=-90.0)
    up = ground_offsets(np.array([[K.cx, K.cy - 500]]), east, K)[0]
    assert up[0] > 20 and abs(up[1]) < 1e-6  # heading east: up in the image is east


@pytest.mark.parametrize(("yaw", "pitch", "roll"), [(0, -90, 0), (37, -60, 2), (250, -45, -3)])
def test_a_synthetic_flight_projects_a_ground_grid_within_1m_at_100m(
    yaw: float, pitch: float, roll: float
) -> None:
    """Known pose and intrinsics, a grid of ground points with known coordinates: each
    projected into the image (our forward model is independent of lat/lon) and back."""
    pose = CameraPose(*WEST_LAKE, altitude=100.0, yaw=yaw, pitch=pitch, roll=roll)
    # ground grid around the point the camera looks at, 10 m apart
    centre = ground_offsets(np.array([[K.cx, K.cy]]), pose, K)[0]
    gx, gy = np.meshgrid(np.arange(-40, 41, 10.0), np.arange(-40, 41, 10.0))
    grid_en = np.stack([gx.ravel(), gy.ravel()], 1) + centre
    truth = enu_to_latlon(grid_en[:, 0], grid_en[:, 1], *WEST_LAKE)
    pixels = ground_to_pixels(grid_en, pose, K)
    inside = (
        (pixels[:, 0] >= 0) & (pixels[:, 0] < 3840) & (pixels[:, 1] >= 0) & (pixels[:, 1] < 2160)
    )
    assert inside.sum() >= 20
    found = pixels_to_ground(pixels[inside], pose, K)
    found_en = latlon_to_enu(found[:, 0], found[:, 1], *WEST_LAKE)
    truth_en = latlon_to_enu(truth[inside, 0], truth[inside, 1], *WEST_LAKE)
    err_m = np.linalg.norm(found_en - truth_en, axis=1)
    assert err_m.max() < 1.0, err_m.max()
    # and a known absolute: 0.001 degree of latitude is ~110.8 m at 30 degrees north
    assert latlon_to_enu(np.array([30.2435]), np.array([120.15]), *WEST_LAKE)[0][1] == \
        pytest.approx(110.85, abs=0.1)  # fmt: skip


def test_rays_above_the_horizon_have_no_ground_point_and_errors_grow_with_range() -> None:
    pose = CameraPose(*WEST_LAKE, altitude=100.0, pitch=-10.0)
    out = pixels_to_ground(np.array([[K.cx, 0.0], [K.cx, 2159.0]]), pose, K)
    assert np.isnan(out[0]).all() and np.isfinite(out[1]).all()
    down = CameraPose(*WEST_LAKE, altitude=100.0, pitch=-90.0)
    near, far = ground_error(np.array([[K.cx, K.cy], [K.cx, 10.0]]), down, K)
    assert 1.5 < near < 5 and far > near  # +-1 deg at 100 m is ~1.7 m below the camera


SRT = """1
00:00:00,000 --> 00:00:00,033
<font size="28">FrameCnt: 1, DiffTime: 33ms
2026-05-01 10:12:13.123
[iso: 100] [shutter: 1/1000.0] [fnum: 2.8] [ev: 0] [color_md: default] [focal_len: 24.00] [latitude: 30.242500] [longitude: 120.150000] [rel_alt: 100.000 abs_alt: 117.250] [gb_yaw: 45.0 gb_pitch: -90.0 gb_roll: 0.0] </font>

2
00:00:00,033 --> 00:00:00,066
<font size="28">FrameCnt: 2, DiffTime: 33ms
2026-05-01 10:12:13.156
[iso: 100] [shutter: 1/1000.0] [fnum: 2.8] [ev: 0] [color_md: default] [focal_len: 24.00] [latitude: 30.242510] [longitude: 120.150020] [rel_alt: 100.100 abs_alt: 117.350] [gb_yaw: 45.2 gb_pitch: -89.9 gb_roll: 0.0] </font>

3
00:00:01,000 --> 00:00:02,000
HOME(120.1500,30.2425) 2026.05.01 10:12:14
GPS(120.150100,30.242600,19) BAROMETER:100.2
ISO:100 Shutter:1000 EV:0 F-Num:2.8 H 98.50m
"""


def test_dji_srt_parsed_new_and_old_layouts(tmp_path: Path) -> None:
    samples = parse_srt(SRT)
    assert len(samples) == 3
    a, b, old = samples
    assert (a.latitude, a.longitude, a.rel_alt, a.abs_alt) == (30.2425, 120.15, 100.0, 117.25)
    assert (a.gimbal_yaw, a.gimbal_pitch, a.gimbal_roll, a.focal_len) == (45.0, -90.0, 0.0, 24.0)
    assert b.start == pytest.approx(0.033) and b.gimbal_pitch == -89.9
    assert (old.latitude, old.longitude, old.rel_alt) == (30.2426, 120.1501, 98.5)
    tel = Telemetry(samples)
    assert tel.at(0.04) is b and tel.at(0.5) is b and tel.at(0.9) is old and tel.at(-1) is a
    f = tmp_path / "DJI_0001.SRT"
    f.write_text(SRT, encoding="utf-16")
    assert read_srt(f) == samples
    with pytest.raises(InputError, match="no DJI telemetry"):
        parse_srt("1\n00:00:00,000 --> 00:00:01,000\nhello\n")


def test_geojson_and_kml_of_tracks_and_events(tmp_path: Path) -> None:
    tracks = [GeoTrack(3, "car", [(0.0, 30.2425, 120.15, 1.8), (1.0, 30.2426, 120.1501, 2.0)]),
              GeoTrack(4, "person", [(0.5, 30.24, 120.14, 1.5)])]  # fmt: skip
    events = [GeoEvent("intrusion", 0.7, 30.2426, 120.1501, 3)]
    write_geojson(tmp_path / "t.geojson", tracks, events)
    doc = json.loads((tmp_path / "t.geojson").read_text())
    kinds = [f["geometry"]["type"] for f in doc["features"]]
    assert kinds == ["LineString", "Point", "Point"]
    assert doc["features"][0]["geometry"]["coordinates"][0] == [120.15, 30.2425]  # lon, lat
    assert doc["features"][0]["properties"]["error_m"] == 1.9
    write_kml(tmp_path / "t.kml", tracks, events)
    root = ET.parse(tmp_path / "t.kml").getroot()
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    assert len(root.findall(".//k:Placemark", ns)) == 3
    assert root.find(".//k:LineString/k:coordinates", ns).text.startswith("120.1500000,30.2425")
