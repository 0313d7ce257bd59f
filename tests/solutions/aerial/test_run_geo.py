"""`shigu run` with a drone source: tracks and events on the map (GeoJSON, KML), events
carrying their latitude and longitude into the store and sinks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.cli import assert_one_line_error, run_cli
from tests.solutions.aerial.test_klv import klv_video
from tests.solutions.aerial.test_track_geo_cli import _pets_frames

pytestmark = pytest.mark.integration


def _config(tmp: Path, uri: Path, telemetry: dict) -> Path:
    cfg = {
        "sources": [{"id": "drone", "uri": str(uri), "telemetry": telemetry}],
        "pipeline": {"detector": {"model": "yolox-nano", "classes": ["person"]}},
        "zones": [
            {
                "id": "field",
                "source": "drone",
                "polygon": [[0, 0], [479, 0], [479, 359], [0, 359]],
                "rules": [{"type": "intrusion", "classes": ["person"], "min_seconds": 0.3}],
            }
        ],
        "store": {"url": f"sqlite:///{tmp}/events.db", "media_dir": str(tmp / "media")},
        "media": {"snapshots": False},
        "sinks": {
            "jsonl": str(tmp / "events.jsonl"),
            "geojson": str(tmp / "map.geojson"),
            "kml": str(tmp / "map.kml"),
        },
    }
    path = tmp / "drone.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_run_places_tracks_and_events_on_the_map(pets_video: Path, tmp_path: Path) -> None:
    frames = _pets_frames(pets_video, 30)
    h, w = frames[0].shape[:2]
    video = klv_video(tmp_path / "flight.ts", 30, size=(w, h), images=frames)
    proc = run_cli("run", _config(tmp_path, video, {"klv": True}), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert "tracks and events on the map in" in proc.stdout
    features = json.loads((tmp_path / "map.geojson").read_text())["features"]
    tracks = [f for f in features if f["properties"]["kind"] == "track"]
    events = [f for f in features if f["properties"]["kind"] == "event"]
    assert len(tracks) >= 3 and events
    assert {f["properties"]["source"] for f in features} == {"drone"}
    lines = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    stored = [x["event"] for x in lines if x["type"] == "new"]
    placed = [e for e in stored if "latitude" in (e.get("attributes") or {})]
    assert placed, stored[:2]
    for e in placed:
        assert abs(e["attributes"]["latitude"] - 30.0) < 0.001
        assert abs(e["attributes"]["longitude"] - 120.0) < 0.001
    assert "<Placemark>" in (tmp_path / "map.kml").read_text()


def test_bad_telemetry_is_a_one_line_error(pets_video: Path, tmp_path: Path) -> None:
    proc = run_cli("run", _config(tmp_path, pets_video, {"klv": True}), "--no-progress")
    assert_one_line_error(proc, "carries no MISB KLV telemetry")
    proc = run_cli("run", _config(tmp_path, pets_video, {"srt": "a.SRT", "klv": True}))
    assert_one_line_error(proc, "either srt")
    proc = run_cli("run", _config(tmp_path, pets_video, {"srt": "missing.SRT"}))
    assert_one_line_error(proc, "cannot read missing.SRT")
    proc = run_cli("config", "validate", tmp_path / "drone.yaml")
    assert proc.returncode != 0 and "telemetry.srt" in proc.stdout + proc.stderr
