"""`shigu track VIDEO --srt ... --geojson/--kml`: tracks placed on the map, as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli import assert_one_line_error, run_cli

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


def test_geo_options_need_telemetry(pets_video: Path, tmp_path: Path) -> None:
    proc = run_cli("track", pets_video, "--geojson", tmp_path / "t.geojson", "--no-save")
    assert_one_line_error(proc, "--geojson and --kml need --srt")
    bad = tmp_path / "bad.SRT"
    bad.write_text("1\n00:00:00,000 --> 00:00:01,000\nno position here\n")
    proc = run_cli("track", pets_video, "--srt", bad, "--geojson", tmp_path / "t.geojson")
    assert_one_line_error(proc, "no DJI telemetry")
    proc = run_cli("track", pets_video, "--srt", tmp_path / "missing.SRT")
    assert_one_line_error(proc, "cannot read")
