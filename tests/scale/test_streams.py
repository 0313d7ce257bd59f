"""`shigu run --ray` on a real two-node Ray cluster: the same summary and events as one
machine, and a source actor killed mid-run is restarted without duplicating events."""

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

from shigu.pipeline import parse_config
from shigu.store import EventStore
from shigu.store.events import EventFilter

pytestmark = [pytest.mark.integration, pytest.mark.slow]
FRAMES = 240


def _config(data_dir: Path, tmp: Path, name: str) -> dict[str, Any]:
    video = str(data_dir / "video" / "pets2009_s2l1_vtest_480x360.avi")
    traffic = str(data_dir / "video" / "car_traffic_small.mp4")
    return {
        "sources": [{"id": "gate", "uri": video}, {"id": "road", "uri": traffic}],
        "pipeline": {
            "detector": {"model": "yolox-nano", "conf": 0.1},
            "tracker": {"type": "ocsort"},
        },
        "zones": [
            {
                "id": "lawn",
                "source": "gate",
                "polygon": [[200, 150], [330, 150], [330, 300], [200, 300]],
                "rules": [{"type": "intrusion", "classes": ["person"], "min_seconds": 1.0}],
            },
        ],
        "lines": [
            {
                "id": "path",
                "source": "gate",
                "points": [[330, 80], [330, 340]],
                "classes": ["person"],
            },
            {"id": "lane", "source": "road", "points": [[0, 250], [640, 250]], "classes": ["car"]},
        ],
        "store": {
            "url": f"sqlite:///{tmp / (name + '.db')}",
            "media_dir": str(tmp / f"{name}-media"),
        },
        "media": {"snapshots": True, "clips": False},
    }


def _write(cfg: dict[str, Any], path: Path) -> Path:
    path.write_text(yaml.safe_dump(cfg))
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    return subprocess.run(
        [sys.executable, "-m", "shigu", "run", *args, "--no-progress"],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )


def _events(url: str) -> list[tuple[Any, ...]]:
    store = EventStore(url)
    try:
        rows = store.query(EventFilter(limit=100_000))
        return sorted(
            (e.type, e.source, e.zone, e.line, e.track_id, e.frame_index, round(e.start, 3))
            for e in rows
        )
    finally:
        store.close()


def test_ray_run_matches_one_machine(ray_cluster: object, data_dir: Path, tmp_path: Path) -> None:
    local_cfg = _config(data_dir, tmp_path, "local")
    ray_cfg = _config(data_dir, tmp_path, "ray")
    a = _run(
        str(_write(local_cfg, tmp_path / "local.yaml")),
        "--max-frames",
        str(FRAMES),
        "--summary-json",
        str(tmp_path / "local.json"),
    )
    assert a.returncode == 0, a.stderr
    b = _run(
        str(_write(ray_cfg, tmp_path / "ray.yaml")),
        "--max-frames",
        str(FRAMES),
        "--summary-json",
        str(tmp_path / "ray.json"),
        "--ray",
        ray_cluster.address,
    )  # type: ignore[attr-defined]
    assert b.returncode == 0, b.stderr
    one, many = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("local", "ray"))
    assert one["lines"] == many["lines"]
    assert one["zones"] == many["zones"]
    assert one["events"] == many["events"] and sum(one["events"].values()) > 0
    for sid in ("gate", "road"):
        assert one["sources"][sid]["frames"] == many["sources"][sid]["frames"] == FRAMES
        assert one["sources"][sid]["tracks"] == many["sources"][sid]["tracks"]
    assert _events(local_cfg["store"]["url"]) == _events(ray_cfg["store"]["url"])


def test_killed_source_actor_restarts_without_duplicates(
    ray_cluster: object, data_dir: Path, tmp_path: Path
) -> None:
    import ray

    from shigu.scale.streams import run_on_ray

    cfg_dict = _config(data_dir, tmp_path, "fault")
    reference = _config(data_dir, tmp_path, "reference")
    ref = _run(
        str(_write(reference, tmp_path / "reference.yaml")),
        "--max-frames",
        str(FRAMES),
        "--summary-json",
        str(tmp_path / "reference.json"),
    )
    assert ref.returncode == 0, ref.stderr
    expected = json.loads((tmp_path / "reference.json").read_text())
    killed: list[int] = []
    model_actors: list[Any] = []

    def kill_gate(actors: dict[str, Any], models: list[Any]) -> None:
        model_actors.extend(models)
        pid = ray.get(actors["gate"].pid.remote())

        def later() -> None:
            db = Path(cfg_dict["store"]["url"].removeprefix("sqlite:///"))
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:  # wait until it has stored some events
                if db.exists() and _count(cfg_dict["store"]["url"]) >= 2:
                    break
                time.sleep(0.2)
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

        threading.Thread(target=later, daemon=True).start()

    try:
        summary = run_on_ray(
            parse_config(cfg_dict),
            ray_cluster.address,
            FRAMES,  # type: ignore[attr-defined]
            on_actors=kill_gate,
        )
        stats = ray.get([m.stats.remote() for m in model_actors])
    finally:
        ray.shutdown()
    assert killed, "the source actor was never killed"
    # Frames from both sources were batched together: fewer model runs than frames.
    assert sum(s["batches"] for s in stats) < sum(s["items"] for s in stats)
    assert summary["lines"] == expected["lines"]
    assert summary["events"] == expected["events"]
    assert summary["sources"]["gate"]["frames"] == FRAMES
    events = _events(cfg_dict["store"]["url"])
    assert len(events) == len(set(events)) == sum(expected["events"].values())
    assert events == _events(reference["store"]["url"])


def _count(url: str) -> int:
    try:
        store = EventStore(url)
    except Exception:
        return 0
    try:
        return len(store.query(EventFilter(limit=100_000)))
    finally:
        store.close()


def test_unreachable_ray_address_is_a_clear_error(data_dir: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    proc = _run(
        str(_write(_config(data_dir, tmp_path, "x"), tmp_path / "x.yaml")), "--ray", "127.0.0.1:1"
    )
    assert proc.returncode != 0 and "cannot reach the Ray cluster" in proc.stderr
    assert "Traceback" not in proc.stderr and time.monotonic() - started < 60
