"""`shigu track VIDEO --srt ... --geojson/--kml`: tracks placed on the map, as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from shigu.solutions.aerial.dem import Dem, write_asc
from tests.cli import assert_one_line_error, run_cli
from tests.solutions.aerial.test_klv import klv_video

pytestmark = pytest.mark.integration


def _srt(path: Path, seconds: int = 4) -> Path:
    blocks = []
    for i in range(seconds * 10):  # DJI writes one block per frame; 10 per second is enough
        t0, t1 = i / 10, (i + 1) / 10
        stamp = lambda t: f"00:00:{int(t):02d},{round((t % 1) * 1000):03d}"  # noqa: E731
        blocks.append(
            f'{i + 1}\n{stamp(t0)} --> {stamp(t1)}\n<font size="28">FrameCnt: {i + 1}\n'
            f"[iso: 100] [focal_len: 24.00] [latitude: {30.2425 + i * 1e-6:.6f}] "
            f"[longitude: 120.150000] [rel_alt: 50.000 abs_alt: 67.000] "
            f"[gb_yaw: 0.0 gb_pitch: -60.0 gb_roll: 0.0] </font>\n"
        )
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def test_tracks_become_geojson_and_kml(pets_video: Path, tmp_path: Path) -> None:
    srt = _srt(tmp_path / "flight.SRT")
    geo, kml = tmp_path / "tracks.geojson", tmp_path / "tracks.kml"
    proc = run_cli("track", pets_video, "--srt", srt, "--geojson", geo, "--kml", kml,
                   "--classes", "person", "--max-frames", "40", "--no-save",
                   "--no-progress")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    features = json.loads(geo.read_text())["features"]
    assert len(features) >= 3
    for f in features:
        lon, lat = f["geometry"]["coordinates"][0] if f["geometry"]["type"] == "LineString" \
            else f["geometry"]["coordinates"]  # fmt: skip
        # 50 m up, looking 30 degrees below the horizon towards north: within ~300 m north
        assert 30.2425 < lat < 30.2455 and abs(lon - 120.15) < 0.003
        assert f["properties"]["class"] == "person" and f["properties"]["error_m"] > 0
    assert "<LineString>" in kml.read_text()


def _pets_frames(pets_video: Path, n: int) -> list[np.ndarray]:
    import av

    with av.open(str(pets_video)) as c:
        frames = []
        for f in c.decode(video=0):
            frames.append(f.to_ndarray(format="bgr24"))
            if len(frames) == n:
                return frames
    return frames


def test_klv_in_the_video_places_tracks_over_flat_ground_and_a_dem(
    pets_video: Path, tmp_path: Path
) -> None:
    """PETS frames muxed into an MPEG-TS with ST 0601 KLV: sensor 100 m above ground at
    10 m, looking down, heading north, HFOV 60 (so the view is 115 m across)."""
    frames = _pets_frames(pets_video, 30)
    h, w = frames[0].shape[:2]
    video = klv_video(tmp_path / "flight.ts", 30, size=(w, h), images=frames)
    geo = tmp_path / "klv.geojson"
    proc = run_cli("track", video, "--geojson", geo, "--classes", "person", "--no-save",
                   "--no-progress")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    features = json.loads(geo.read_text())["features"]
    assert len(features) >= 3
    half = 60.0  # metres: half the view plus the 30 m flown
    for f in features:
        coords = f["geometry"]["coordinates"]
        lon, lat = coords[0] if f["geometry"]["type"] == "LineString" else coords
        assert 30.0 - half / 110_574 < lat < 30.0 + (half + 30) / 110_574
        assert abs(lon - 120.0) < half / 96_000
    # the same flight over a flat DEM at the ground's 10 m gives the same points
    dem = tmp_path / "flat.asc"
    write_asc(dem, Dem(np.full((60, 60), 10.0), 30.01, 119.99, 1 / 3000, 1 / 3000))
    geo_dem = tmp_path / "dem.geojson"
    proc = run_cli("track", video, "--geojson", geo_dem, "--dem", dem, "--classes", "person",
                   "--no-save", "--no-progress")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    a = {f["properties"]["track_id"]: f["geometry"]["coordinates"] for f in features}
    b = {f["properties"]["track_id"]: f["geometry"]["coordinates"]
         for f in json.loads(geo_dem.read_text())["features"]}  # fmt: skip
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(np.asarray(a[key]), np.asarray(b[key]), atol=1e-6)


def test_geo_options_need_telemetry(pets_video: Path, tmp_path: Path) -> None:
    proc = run_cli("track", pets_video, "--geojson", tmp_path / "t.geojson", "--no-save")
    assert_one_line_error(proc, "carries no MISB KLV telemetry")
    proc = run_cli("track", pets_video, "--dem", tmp_path / "x.tif", "--no-save")
    assert_one_line_error(proc, "give --geojson or --kml")
    proc = run_cli("track", pets_video, "--srt", tmp_path / "x.SRT", "--geojson",
                   tmp_path / "t.geojson", "--dem", tmp_path / "missing.tif")  # fmt: skip
    assert_one_line_error(proc, "cannot read")
    bad = tmp_path / "bad.SRT"
    bad.write_text("1\n00:00:00,000 --> 00:00:01,000\nno position here\n")
    proc = run_cli("track", pets_video, "--srt", bad, "--geojson", tmp_path / "t.geojson")
    assert_one_line_error(proc, "no DJI telemetry")
    proc = run_cli("track", pets_video, "--srt", tmp_path / "missing.SRT", "--kml",
                   tmp_path / "t.kml")  # fmt: skip
    assert_one_line_error(proc, "cannot read")
