"""Occupancy: the rule's counts and hysteresis, the store's minutes, MQTT with Home Assistant
discovery against a real Mosquitto, and the API."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from shigu.analytics import SceneAnalytics, ZoneSpec
from shigu.core.detections import Detections
from shigu.core.events import Event, EventEnd
from shigu.solutions.living.occupancy import OccupancyCount, OccupancyMinute, OccupancyRule
from shigu.store.events import EventStore
from tests.cli import run_cli

ROOM = [(0.0, 0.0), (200.0, 0.0), (200.0, 200.0), (0.0, 200.0)]
FPS = 10.0


def frames_with(counts: list[int]) -> list[Detections]:
    """Frame i holds ``counts[i]`` people standing in the room (ids 1..n)."""
    out = []
    for n in counts:
        if not n:
            out.append(Detections.empty())
            continue
        xyxy = np.array([[10 + 30 * k, 50, 30 + 30 * k, 150] for k in range(n)], np.float32)
        out.append(Detections(xyxy, np.full(n, 0.9, np.float32), np.zeros(n, np.int64),
                              tracker_id=np.arange(1, n + 1)))  # fmt: skip
    return out


def run(counts: list[int], **rule: float):
    scene = SceneAnalytics(
        "cam", ["person"], [ZoneSpec("room", ROOM, [{"type": "occupancy", **rule}])]
    )
    items: list[Event | EventEnd] = []
    updates: list[OccupancyMinute | OccupancyCount] = []
    for i, dets in enumerate(frames_with(counts)):
        items += scene.update(i / FPS, i, dets)
        updates += scene.drain_occupancy()
    items += scene.finish()
    updates += scene.drain_occupancy()
    return items, updates


def test_occupied_once_per_stay_with_hysteresis() -> None:
    # a passing detection (0.3 s), then a stay of 5 s with 1-3 people and a 1 s gap in the
    # middle (missed detections), then nobody for 4 s
    counts = [1] * 3 + [0] * 20 + [1] * 20 + [0] * 10 + [3] * 20 + [0] * 40
    items, updates = run(counts, occupied_seconds=1.0, empty_seconds=2.0)
    news = [e for e in items if isinstance(e, Event)]
    ends = [e for e in items if isinstance(e, EventEnd)]
    assert [e.type for e in news] == ["occupied"] and news[0].start == pytest.approx(2.3)
    assert len(ends) == 1 and ends[0].end == pytest.approx(7.2)  # last seen, not +2 s
    assert ends[0].attributes["max_count"] == 3
    states = [(u.count, u.occupied) for u in updates if isinstance(u, OccupancyCount)]
    assert (3, True) in states and states[-1] == (0, False)


def test_per_minute_mean_and_max() -> None:
    scene = SceneAnalytics("cam", ["person"], [ZoneSpec("room", ROOM, [{"type": "occupancy"}])])
    rule = scene.rules[0]
    assert isinstance(rule, OccupancyRule)
    counts = [2] * 300 + [0] * 300 + [1] * 600 + [4] * 5  # 60 s: 2 then 0; 60 s: 1; then 4
    for i, dets in enumerate(frames_with(counts)):
        scene.update(i / FPS, i, dets)
    scene.finish()
    minutes = [u for u in scene.drain_occupancy() if isinstance(u, OccupancyMinute)]
    assert [(m.minute, m.mean, m.max, m.frames) for m in minutes] == [
        (0.0, 1.0, 2, 600),
        (60.0, 1.0, 1, 600),
        (120.0, 4.0, 4, 5),
    ]


def _config(tmp: Path, video: Path, mqtt_port: int) -> Path:
    cfg = {
        "sources": [{"id": "gate", "uri": str(video)}],
        "pipeline": {"detector": {"classes": ["person"]}},
        "zones": [{"id": "walkway", "source": "gate",
                   "polygon": [[0, 100], [480, 100], [480, 360], [0, 360]],
                   "rules": [{"type": "occupancy", "empty_seconds": 5}]}],
        "store": {"url": f"sqlite:///{tmp}/occ.db", "media_dir": str(tmp / "media")},
        "media": {"snapshots": False},
        "sinks": {"mqtt": {"port": mqtt_port, "topic_prefix": "home"}},
    }  # fmt: skip
    path = tmp / "occ.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.slow
def test_pets_minutes_in_the_store_and_rooms_in_home_assistant(
    pets_video: Path, tmp_path: Path, mqtt_broker: int
) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    proc = run_cli("run", _config(tmp_path, pets_video, mqtt_broker), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    store = EventStore(f"sqlite:///{tmp_path}/occ.db")
    minutes = store.occupancy()
    occupied = [e for e in store.query() if e.type == "occupied"]
    store.close()
    # PETS S2L1 is 795 frames at 10 fps: a full minute and a part, people in view throughout
    assert [m["minute"] for m in minutes] == [0.0, 60.0]
    assert minutes[0]["frames"] == 600 and 2.0 < minutes[0]["mean"] <= minutes[0]["max"] <= 9
    assert len(occupied) == 1 and occupied[0].zone == "walkway"

    # a subscriber arriving later (Home Assistant restarting) gets discovery and state
    got: dict[str, bytes] = {}
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="ha")
    sub.on_message = lambda c, u, m: got.__setitem__(m.topic, m.payload)
    sub.connect("127.0.0.1", mqtt_broker)
    sub.subscribe([("homeassistant/#", 1), ("home/#", 1)])
    sub.loop_start()
    time.sleep(1.0)
    sub.loop_stop()
    binary = json.loads(got["homeassistant/binary_sensor/shigu_home_gate_walkway_occupied/config"])
    assert binary["device_class"] == "occupancy"
    assert binary["state_topic"] == "home/gate/walkway/occupied"
    assert binary["availability_topic"] == "home/available"
    sensor = json.loads(got["homeassistant/sensor/shigu_home_gate_walkway_count/config"])
    assert (
        sensor["state_topic"] == "home/gate/walkway/count"
        and sensor["state_class"] == "measurement"
    )
    assert binary["device"]["identifiers"] == sensor["device"]["identifiers"]
    assert got["home/gate/walkway/occupied"] == b"OFF"  # the file ended: the room emptied
    assert int(got["home/gate/walkway/count"]) >= 0
