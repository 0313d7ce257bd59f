"""Golden-output cases: the commands whose outputs must not change when the engine changes.

``python -m tests.golden.cases OUTDIR`` runs them with the ``shigu`` on ``sys.path`` and
writes the canonical outputs; ``tests/golden/test_golden.py`` runs them again and compares.
The files in ``tests/golden/data`` were written by commit ba82f30 (before the stage graph,
the motion gate and per-source detectors); every later engine must reproduce them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RUN_YAML = """sources: [{{id: gate, uri: {video}}}]
pipeline: {{detector: {{classes: [person]}}}}
zones: [{{id: lawn, source: gate, polygon: [[200, 150], [330, 150], [330, 300], [200, 300]],
         rules: [{{type: intrusion, min_seconds: 1.0}}]}}]
lines: [{{id: east, source: gate, points: [[330, 80], [330, 340]]}},
        {{id: west, source: gate, points: [[150, 80], [150, 340]]}}]
store: {{url: "sqlite:///{tmp}/run.db", media_dir: {tmp}/media}}
media: {{snapshots: false}}
sinks: {{jsonl: {tmp}/run_events.jsonl}}
"""


def _shigu(*args: str | Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "shigu", *map(str, args)],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}, timeout=600,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"shigu {' '.join(map(str, args))} failed: {proc.stderr[-2000:]}")


def _event_rows(path: Path) -> list[Any]:
    """The run's events without what differs by run (ids, wall times, media paths)."""
    rows: list[Any] = []
    for line in path.read_text().splitlines():
        msg = json.loads(line)
        if msg["type"] == "new":
            e = msg["event"]
            rows.append(["new", e["type"], e["start"], e["zone"], e["line"], e["track_id"],
                         e["class_name"], e["confidence"], e["frame_index"],
                         [round(v, 2) for v in e["box"]], e["attributes"]])  # fmt: skip
        else:
            rows.append(["end", msg["end"]["end"], msg["end"]["attributes"]])
    return rows


def produce(data: Path, out: Path, tmp: Path) -> None:
    """Run every case; write the canonical outputs into ``out``."""
    video = data / "video" / "pets2009_s2l1_vtest_480x360.avi"
    out.mkdir(parents=True, exist_ok=True)
    _shigu("detect", video, "--jsonl", out / "detect_pets.jsonl", "--max-frames", "40",
           "--classes", "person", "--no-progress")  # fmt: skip
    _shigu("track", video, "--mot-txt", out / "track_pets.txt", "--max-frames", "80",
           "--no-progress", "--no-save")  # fmt: skip
    (tmp / "mot").mkdir(exist_ok=True)
    # the thresholds of the commit that wrote the golden files (the public-detection default
    # changed later, by cross-validation): the engine must still reproduce them exactly
    _shigu("track", "--mot", data / "mot" / "MOT15", "--out", tmp / "mot", "--no-progress",
           "--track-thresh", "0.5", "--new-track-thresh", "0.6")  # fmt: skip
    for seq in ("TUD-Campus", "ETH-Sunnyday"):
        (out / f"mot15_{seq}.txt").write_text((tmp / "mot" / f"{seq}.txt").read_text())
    (tmp / "run.yaml").write_text(RUN_YAML.format(video=video, tmp=tmp))
    _shigu("run", tmp / "run.yaml", "--max-frames", "200", "--summary-json", tmp / "s.json")
    summary = json.loads((tmp / "s.json").read_text())
    canonical = {
        "lines": summary["lines"],
        "zones": summary["zones"],
        "events": summary["events"],
        "frames": summary["frames"],
        "tracks": summary["sources"]["gate"]["tracks"],
        "event_rows": _event_rows(tmp / "run_events.jsonl"),
    }
    (out / "run_pets.json").write_text(json.dumps(canonical, indent=1) + "\n")
    (tmp / "inputs.txt").write_text(f"{data / 'mot' / 'MOT17' / 'MOT17-02-FRCNN'}\n{video}\n")
    _shigu("batch", "detect", tmp / "inputs.txt", "--out", tmp / "batch", "--max-frames", "30")
    results = json.loads((tmp / "batch" / "coco_results.json").read_text())
    (out / "batch_coco_results.json").write_text(json.dumps(results) + "\n")


if __name__ == "__main__":
    import tempfile

    data = Path(os.environ.get("SHIGU_TEST_DATA", ROOT.parent / "shared" / "data"))
    with tempfile.TemporaryDirectory() as tmp:
        produce(data, Path(sys.argv[1]), Path(tmp))
