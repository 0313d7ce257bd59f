"""A full media disk: clips and snapshots are skipped with a warning and counted, events are
still stored, and nothing crashes (FFmpeg used to SIGSEGV flushing a clip into a full disk).
Run on a real 600 KiB tmpfs (needs the right to mount, as root in CI)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.cli import run_cli

pytestmark = pytest.mark.integration


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'not permitted'})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _fill(disk: Path, leave: int) -> None:
    st = os.statvfs(disk)
    (disk / "filler").write_bytes(b"\0" * max(0, st.f_bavail * st.f_frsize - leave))


def test_video_writer_abandons_a_clip_on_a_full_disk(small_disk: Path) -> None:
    """In a fresh process: a crash here would take pytest down with it."""
    _fill(small_disk, 4096)
    script = f"""
import numpy as np
from shigu.io.video_writer import VideoWriter
rng = np.random.default_rng(0)
for k in range(3):
    try:
        with VideoWriter({str(small_disk)!r} + f"/c{{k}}.mp4", 25) as w:
            for i in range(30):
                w.write(rng.integers(0, 255, (360, 480, 3), dtype=np.uint8))
    except OSError as exc:
        print("skipped", exc.errno)
print("alive")
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert proc.stdout.split() == ["skipped", "28"] * 3 + ["alive"]
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]  # no broken clips left


def test_run_with_clips_on_a_full_disk_keeps_every_event(
    pets_video: Path, small_disk: Path, tmp_path: Path
) -> None:
    cfg = {
        "sources": [{"id": "gate", "uri": str(pets_video)}],
        "pipeline": {"detector": {"model": "yolox-nano", "classes": ["person"]}},
        "zones": [{"id": "all", "source": "gate", "polygon": [[0, 0], [479, 0], [479, 359],
                   [0, 359]], "rules": [{"type": "intrusion", "classes": ["person"],
                                         "min_seconds": 0.2}]}],
        "store": {"url": f"sqlite:///{tmp_path}/events.db", "media_dir": str(small_disk / "m")},
        "media": {"snapshots": True, "clips": True, "pre_seconds": 1, "post_seconds": 1},
    }  # fmt: skip
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump(cfg))
    summary = tmp_path / "summary.json"
    proc = run_cli("run", config, "--max-frames", "400", "--no-progress", "--summary-json",
                   summary)  # fmt: skip
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert "could not be written" in proc.stdout + proc.stderr
    report = json.loads(summary.read_text())
    assert report["media_failures"] > 0
    events, clips = sqlite3.connect(tmp_path / "events.db").execute(
        "select count(*), count(clip) from events").fetchone()  # fmt: skip
    assert events == sum(report["events"].values()) > 0 and clips < events
    for clip in (small_disk / "m").rglob("*.mp4"):  # what was written plays
        import av

        with av.open(str(clip)) as c:
            assert sum(1 for _ in c.decode(video=0)) > 0
    assert np.isfinite(report["frames"]) and report["frames"] == 400
