"""`shigu run` end to end on real video: line counts against ground truth, store, sinks,
metrics, crash safety, graceful stop, dying sources, full media disk, MQTT, webhooks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from shigu.core.events import EVENT_FIELDS
from shigu.pipeline import Pipeline, parse_config
from shigu.store import EventStore
from tests.cli import assert_one_line_error, run_cli
from tests.pipeline.gt_crossings import PETS_LINES, ground_truth_crossings

pytestmark = pytest.mark.integration


def pets_config(tmp: Path, video: Path, **extra: Any) -> Path:
    cfg: dict[str, Any] = {
        "sources": [{"id": "gate", "uri": str(video)}],
        "pipeline": {"detector": {"model": "yolox-nano", "classes": ["person"]}},
        "zones": [
            {
                "id": "lawn",
                "source": "gate",
                "polygon": [[200, 150], [330, 150], [330, 300], [200, 300]],
                "rules": [{"type": "intrusion", "classes": ["person"], "min_seconds": 1.0}],
            }
        ],
        "lines": [
            {"id": k, "source": "gate", "points": [list(p) for p in v]}
            for k, v in PETS_LINES.items()
        ],
        "store": {"url": f"sqlite:///{tmp}/events.db", "media_dir": str(tmp / "media")},
        "sinks": {"jsonl": str(tmp / "events.jsonl"), "heatmap_dir": str(tmp / "heat")},
        "metrics": {"file": str(tmp / "metrics.prom")},
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(cfg.get(key), dict):
            cfg[key] = {**cfg[key], **value}
        else:
            cfg[key] = value
    path = tmp / "pipeline.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.slow
def test_line_counts_match_ground_truth_within_10_percent(
    data_dir: Path, pets_video: Path, tmp_path: Path
) -> None:
    config = pets_config(tmp_path, pets_video)
    summary_path = tmp_path / "summary.json"
    proc = run_cli("run", config, "--summary-json", summary_path, "--no-progress")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(summary_path.read_text())
    assert summary["sources"]["gate"]["frames"] == 795 and summary["sources"]["gate"]["fps"] > 0
    gt_file = data_dir / "mot" / "MOT15" / "PETS09-S2L1" / "gt" / "gt.txt"
    totals = {"in": [0, 0], "out": [0, 0]}
    for name, (p1, p2) in PETS_LINES.items():
        truth = ground_truth_crossings(gt_file, p1, p2, scale=0.625)
        got = summary["lines"][name]
        for direction in ("in", "out"):
            assert truth[direction] >= 10  # enough crossings for a percentage to mean something
            error = abs(got[direction] - truth[direction]) / truth[direction]
            assert error <= 0.10, (name, direction, got, truth)
            totals[direction][0] += got[direction]
            totals[direction][1] += truth[direction]
    for direction, (got_total, true_total) in totals.items():
        assert abs(got_total - true_total) / true_total <= 0.10, (direction, totals)
    # events: stored, exported to JSONL, with media
    store = EventStore(f"sqlite:///{tmp_path}/events.db")
    events = store.query()
    crossings = [e for e in events if e.type == "line_crossing"]
    assert len(crossings) == sum(v["in"] + v["out"] for v in summary["lines"].values())
    assert summary["events"]["line_crossing"] == len(crossings)
    intrusions = [e for e in events if e.type == "intrusion"]
    assert intrusions and all(e.end is not None and e.end >= e.start for e in intrusions)
    assert all(e.attributes["dwell"] >= 1.0 for e in intrusions)
    with_media = [e for e in events if e.snapshot]
    assert len(with_media) == len(events)
    assert (tmp_path / "media" / with_media[0].snapshot).read_bytes()[:2] == b"\xff\xd8"
    assert (
        with_media[0].snapshot_crop and (tmp_path / "media" / with_media[0].snapshot_crop).exists()
    )
    lines = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert {m["event"]["id"] for m in lines if m["type"] == "new"} == {e.id for e in events}
    metrics = (tmp_path / "metrics.prom").read_text()
    assert 'shigu_frames_total{source="gate"} 795.0' in metrics
    assert 'shigu_stage_seconds_count{stage="infer"}' in metrics
    assert (tmp_path / "heat" / "gate.png").read_bytes()[:4] == b"\x89PNG"
    # the events CLI reads the same store
    db = f"sqlite:///{tmp_path}/events.db"
    proc = run_cli("events", "list", "--db", db, "--type", "intrusion")
    assert proc.returncode == 0 and "intrusion" in proc.stdout
    out_csv = tmp_path / "e.csv"
    proc = run_cli("events", "export", out_csv, "--db", db, "--line", "east")
    assert proc.returncode == 0, proc.stderr
    rows = out_csv.read_text().splitlines()
    assert rows[0] == ",".join(EVENT_FIELDS) and len(rows) - 1 == sum(
        summary["lines"]["east"][d] for d in ("in", "out")
    )
    proc = run_cli("events", "show", events[0].id[:8], "--db", db)
    assert proc.returncode == 0 and events[0].id in proc.stdout
    assert_one_line_error(run_cli("events", "show", "zzzz", "--db", db), "no event")
    assert_one_line_error(
        run_cli("events", "list", "--db", db, "--since", "yesterday"), "is not a time"
    )


def _popen_run(config: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "shigu", "run", str(config), "--no-progress", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.mark.slow
def test_sigkill_mid_file_loses_nothing_reported_and_restart_goes_on(
    pets_video: Path, tmp_path: Path
) -> None:
    config = pets_config(tmp_path, pets_video, media={"clips": True, "post_seconds": 1.0})
    proc = _popen_run(config, "--print-events")
    reported: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("stored "):
            reported.append(line.split()[1])
            if len(reported) >= 6:
                break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert len(reported) >= 6
    store = EventStore(f"sqlite:///{tmp_path}/events.db")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    for event_id in reported:
        ev = store.get(event_id)
        assert ev is not None, event_id
        assert ev.type and ev.source == "gate" and ev.snapshot
        assert (tmp_path / "media" / ev.snapshot).stat().st_size > 1000  # whole JPEG
    store.close()
    with store.engine.connect() as conn:  # what the kill left: a run never finished
        assert conn.exec_driver_sql("SELECT count(*) FROM runs WHERE finished IS NULL").scalar()
    store.close()
    again = run_cli("run", config, "--max-frames", "100", "--no-progress")
    assert again.returncode == 0, again.stderr
    store = EventStore(f"sqlite:///{tmp_path}/events.db")
    assert len(store.query()) >= len(reported)
    with store.engine.connect() as conn:  # the next start closed the killed run and its events
        assert (
            conn.exec_driver_sql("SELECT count(*) FROM runs WHERE finished IS NULL").scalar() == 0
        )
        assert conn.exec_driver_sql("SELECT count(*) FROM events WHERE end IS NULL").scalar() == 0
        summaries = [json.loads(r[0]) for r in conn.exec_driver_sql("SELECT summary FROM runs")]
    assert sum(1 for x in summaries if x.get("interrupted")) == 1
    store.close()


@pytest.mark.slow
def test_sigterm_flushes_and_closes_open_events(pets_video: Path, tmp_path: Path) -> None:
    config = pets_config(tmp_path, pets_video)
    summary_path = tmp_path / "s.json"
    proc = _popen_run(config, "--print-events", "--summary-json", str(summary_path))
    assert proc.stdout is not None
    for line in proc.stdout:
        if "intrusion" in line and line.startswith("stored "):
            break
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    summary = json.loads(summary_path.read_text())
    assert 0 < summary["sources"]["gate"]["frames"] < 795
    store = EventStore(f"sqlite:///{tmp_path}/events.db")
    intrusions = [e for e in store.query() if e.type == "intrusion"]
    assert intrusions and all(e.end is not None for e in intrusions)


@pytest.mark.slow
def test_ctrl_c_exits_130_and_says_what_it_wrote(pets_video: Path, tmp_path: Path) -> None:
    config = pets_config(tmp_path, pets_video)
    proc = _popen_run(config, "--print-events", "--summary-json", str(tmp_path / "s.json"))
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("stored "):
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err  # as `shigu detect` and `shigu track` on Ctrl-C
    assert "events stored in sqlite:///" in out and "summary written to" in out
    assert (tmp_path / "s.json").is_file()


def test_bad_geometry_and_sources_fail_cleanly(pets_video: Path, tmp_path: Path) -> None:
    outside = pets_config(
        tmp_path,
        pets_video,
        zones=[{"id": "far", "source": "gate", "polygon": [[0, 0], [900, 0], [900, 100]]}],
    )
    assert_one_line_error(run_cli("run", outside), "lies outside the 480x360 frame", code=5)
    crossing = pets_config(
        tmp_path,
        pets_video,
        zones=[{"id": "bow", "source": "gate", "polygon": [[0, 0], [90, 0], [0, 90], [90, 90]]}],
    )
    assert_one_line_error(run_cli("run", crossing), "intersects itself", code=5)
    unknown = pets_config(tmp_path, pets_video, pipeline={"detectr": {}})
    assert_one_line_error(run_cli("run", unknown), "pipeline.detectr: unknown key", code=5)
    missing = pets_config(tmp_path, pets_video, sources=[{"id": "gate", "uri": "/nope.mp4"}])
    assert_one_line_error(run_cli("run", missing), "no source could be opened", code=3)


def test_full_media_disk_still_stores_events(
    pets_video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shigu.store.media as media_mod

    def no_space(*_a: object, **_k: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(media_mod.os, "replace", no_space)
    cfg = parse_config(yaml.safe_load(pets_config(tmp_path, pets_video).read_text()))
    summary = Pipeline(cfg, max_frames=200).run()
    assert summary["media_failures"] > 0
    events = EventStore(cfg.store.url).query()
    assert len(events) == sum(summary["events"].values()) > 0
    assert all(e.snapshot is None for e in events)


def test_a_source_that_dies_reconnects_while_others_go_on(
    pets_video: Path, tmp_path: Path, port: int
) -> None:
    from tests.servers import mjpeg_server

    server = mjpeg_server(port, pets_video, fps=15).start()
    cfg = parse_config(
        {
            "sources": [
                {"id": "file", "uri": str(pets_video)},
                {"id": "cam", "uri": f"http://127.0.0.1:{port}/stream.mjpg"},
                {"id": "gone", "uri": str(tmp_path / "missing.mp4")},
            ],
            "pipeline": {"detector": {"classes": ["person"]}},
            "store": {"url": f"sqlite:///{tmp_path}/e.db", "media_dir": str(tmp_path / "m")},
        }
    )
    pipeline = Pipeline(cfg, max_frames=300)
    result: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: result.update(pipeline.run()))
    thread.start()
    try:
        time.sleep(3)
        server.stop()  # the camera goes away mid-run
        time.sleep(2)
        server.start()
        deadline = time.monotonic() + 60
        while thread.is_alive() and time.monotonic() < deadline:
            cam = pipeline.states["cam"].runner
            if cam.source is not None and cam.source.stats.reconnects >= 1 and cam.decoded > 60:
                break
            time.sleep(0.2)
        time.sleep(1)
    finally:
        pipeline.stop()
        thread.join(timeout=60)
        server.stop()
    sources = result["sources"]
    assert sources["file"]["frames"] >= 250 and sources["file"]["error"] is None
    assert sources["cam"]["reconnects"] >= 1 and sources["cam"]["frames"] > 30
    assert sources["cam"]["live"] is True
    assert "missing.mp4" in sources["gone"]["error"]


def test_mqtt_sink_against_mosquitto(pets_video: Path, tmp_path: Path, mqtt_broker: int) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    got: list[tuple[str, bytes, bool]] = []
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-sub")
    sub.on_message = lambda c, u, m: got.append((m.topic, m.payload, bool(m.retain)))
    sub.connect("127.0.0.1", mqtt_broker)
    sub.subscribe("site/#", qos=1)
    sub.loop_start()
    config = pets_config(
        tmp_path,
        pets_video,
        sinks={"mqtt": {"port": mqtt_broker, "topic_prefix": "site"}, "jsonl": None},
    )
    proc = run_cli("run", config, "--max-frames", "250", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    time.sleep(1.0)
    sub.loop_stop()
    topics = [t for t, _, _ in got]
    availability = [p for t, p, _ in got if t == "site/available"]
    assert availability[0] == b"online" and availability[-1] == b"offline"
    events = [json.loads(p) for t, p, _ in got if t == "site/events"]
    assert any(e["type"] == "new" and e["event"]["source"] == "gate" for e in events)
    assert any(t.startswith("site/gate/") for t in topics)
    # a late subscriber sees the retained state
    late: list[tuple[str, bytes]] = []
    sub2 = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="late")
    sub2.on_message = lambda c, u, m: late.append((m.topic, m.payload))
    sub2.connect("127.0.0.1", mqtt_broker)
    sub2.subscribe("site/#")
    sub2.loop_start()
    time.sleep(1.0)
    sub2.loop_stop()
    assert ("site/available", b"offline") in late
    assert any(t == "site/gate/line_crossing" or t == "site/gate/intrusion" for t, _ in late)


@pytest.mark.slow
def test_running_the_same_file_again_stores_no_duplicates(pets_video: Path,
                                                           tmp_path: Path) -> None:  # fmt: skip
    """A file run read at full speed is deterministic: its events take ids from the inputs
    and settings, so running it again (after a crash, or on purpose) replaces its events."""
    config = pets_config(tmp_path, pets_video)
    first = run_cli("run", config, "--max-frames", "120", "--no-progress")
    assert first.returncode == 0, first.stderr
    store = EventStore(f"sqlite:///{tmp_path}/events.db")
    ids = sorted(e.id for e in store.query())
    store.close()
    assert ids
    again = run_cli("run", config, "--max-frames", "120", "--no-progress")
    assert again.returncode == 0, again.stderr
    store = EventStore(f"sqlite:///{tmp_path}/events.db")
    assert sorted(e.id for e in store.query()) == ids  # the same events, once each
    store.close()
    data = yaml.safe_load(config.read_text())
    data["zones"][0]["polygon"][0][0] += 1  # another setting: other events
    config.write_text(yaml.safe_dump(data))
    third = run_cli("run", config, "--max-frames", "120", "--no-progress")
    assert third.returncode == 0, third.stderr
    store = EventStore(f"sqlite:///{tmp_path}/events.db")
    assert len(store.query()) > len(ids)
    store.close()
