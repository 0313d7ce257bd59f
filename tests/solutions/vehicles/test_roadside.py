"""Roadside messages: the geo fit, messages valid against their JSON Schemas, and a real
Mosquitto carrying RSM and RSI from `shigu run` on the bridge video."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from shigu.solutions.aerial.geo import enu_to_latlon
from shigu.solutions.vehicles.roadside import GeoFrame, schema
from tests.cli import run_cli

WORLD = [[0, 60], [10, 60], [10, 0], [0, 0]]
LAT0, LON0 = 30.2741, 120.1551


def _geo(yaw_deg: float) -> list[list[float]]:
    """The world points placed on the map: the road's +y axis ``yaw_deg`` east of north."""
    a = np.radians(yaw_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])  # world -> (e, n)
    en = np.asarray(WORLD, float) @ rot
    return enu_to_latlon(en[:, 0], en[:, 1], LAT0, LON0).tolist()


def test_geo_frame_maps_metres_and_headings() -> None:
    geo = GeoFrame(WORLD, _geo(30.0))
    assert geo.residual_m < 0.01
    np.testing.assert_allclose(geo.to_latlon(np.array([[0.0, 0.0]]))[0], [LAT0, LON0], atol=1e-7)
    assert geo.heading(0.0, 1.0) == pytest.approx(30.0, abs=0.05)  # along the road
    assert geo.heading(1.0, 0.0) == pytest.approx(120.0, abs=0.05)


def test_schemas_are_valid_json_schemas() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    for name in ("rsm", "rsi"):
        jsonschema.Draft202012Validator.check_schema(schema(name))


@pytest.mark.integration
def test_run_publishes_rsm_and_rsi_over_mosquitto(
    data_dir: Path, tmp_path: Path, mqtt_broker: int
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    cfg = yaml.safe_load((Path(__file__).parents[3] / "examples/traffic/bridge_counting.yaml")
                         .read_text())  # fmt: skip
    cfg["sources"][0]["uri"] = str(data_dir / "video" / "car_traffic_small.mp4")
    cfg["sources"][0]["calibration"]["geo"] = _geo(15.0)
    cfg["store"] = {"url": f"sqlite:///{tmp_path}/e.db", "media_dir": str(tmp_path / "m")}
    cfg["sinks"] = {"roadside": {"port": mqtt_broker, "rsu_id": "hz-bridge-1", "rate_hz": 5,
                                 "flow_seconds": 5}}  # fmt: skip
    config = tmp_path / "bridge.yaml"
    config.write_text(yaml.safe_dump(cfg))
    got: list[tuple[str, dict]] = []  # type: ignore[type-arg]
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="rsu-test")
    sub.on_message = lambda c, u, m: got.append((m.topic, json.loads(m.payload)))
    sub.connect("127.0.0.1", mqtt_broker)
    sub.subscribe("v2x/#")
    sub.loop_start()
    time.sleep(0.3)
    proc = run_cli("run", config, "--max-frames", "300", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    time.sleep(1.0)
    sub.loop_stop()
    rsm = [m for t, m in got if t == "v2x/hz-bridge-1/rsm"]
    rsi = [m for t, m in got if t == "v2x/hz-bridge-1/rsi"]
    check = jsonschema.FormatChecker()
    validators = {kind.upper(): jsonschema.Draft202012Validator(schema(kind), format_checker=check)
                  for kind in ("rsm", "rsi")}  # fmt: skip
    for message in rsm + rsi:
        validators[message["msgType"]].validate(message)
    # 300 frames at 30 fps = 10 s of media at 5 RSMs a second
    assert 45 <= len(rsm) <= 52, len(rsm)
    users = [p for m in rsm for p in m["participants"]]
    # 290 every run: each RSM lists the tracks of its own frame (when the message was made
    # after the whole inference batch, frames inside a batch lost theirs: 28-126 by timing)
    assert len(users) > 250 and all(m["heading_ref"] == "true_north" for m in rsm)
    assert {p["type"] for p in users} <= {"motor_vehicle", "motorcycle"}
    for p in users:
        assert abs(p["lat"] - LAT0) < 0.002 and abs(p["lon"] - LON0) < 0.002
    moving = [p for p in users if p["heading"] is not None and p["speed"] > 3]
    assert moving  # cars drive along the road (15 or 195 degrees) more than across it
    along = [p for p in moving if min(abs(p["heading"] - 15), abs(p["heading"] - 195)) < 30]
    assert len(along) > 0.7 * len(moving)
    flows = [m for m in rsi if m.get("flow")]
    assert flows and flows[-1]["flow"][0]["lane"] == "count"
    assert flows[-1]["flow"][0]["in"] + flows[-1]["flow"][0]["out"] > 0
    assert {q["zone"] for q in flows[-1]["queues"]} == {"road", "near-lanes"}
    events = [e for m in rsi for e in m["events"]]
    assert any(e["shigu_type"] == "line_crossing" and "lat" in e for e in events)


def test_roadside_needs_a_calibrated_source(data_dir: Path, tmp_path: Path) -> None:
    store = {"url": f"sqlite:///{tmp_path}/e.db", "media_dir": str(tmp_path / "m")}
    cfg = {"sources": [{"id": "a", "uri": str(data_dir / "video" / "car_traffic_small.mp4")}],
           "sinks": {"roadside": {"port": 1}}, "store": store}  # fmt: skip
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(cfg))
    proc = run_cli("run", config, "--max-frames", "5", "--no-progress")
    assert proc.returncode != 0 and "calibrated to the road" in proc.stderr
    assert "Traceback" not in proc.stderr
