"""Arena fixtures: ground-truth folders made of links into the shared data (never copies),
result files made once per session, a clock the tests move, and a challenge file writer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.arena.submissions import anomaly_zip, mot_zip

HEAT_SEQS = ["MOT17-05-FRCNN", "MOT17-09-FRCNN"]
FINAL_SEQS = ["MOT17-02-FRCNN", "MOT17-05-FRCNN"]
PASSWORD = "correct horse battery"


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def set(self, text: str) -> None:
        self.now = datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class ArenaData:
    root: Path
    heat_gt: Path
    final_gt: Path
    anomaly_gt: Path
    files: dict[str, Path]


FRAMES = 200  # the first 200 frames of each sequence: the same evaluator, a quarter the time


def first_frames(folder: Path, source: Path, names: list[str], frames: int = FRAMES) -> Path:
    """Sequences' ground truth cut to their first ``frames`` frames (derived files in the
    test's temporary folder; the shared data is only read)."""
    for name in names:
        (folder / name / "gt").mkdir(parents=True)
        lines = (source / name / "gt" / "gt.txt").read_text().splitlines()
        kept = [ln for ln in lines if int(ln.split(",", 1)[0]) <= frames]
        (folder / name / "gt" / "gt.txt").write_text("\n".join(kept) + "\n")
        info = (source / name / "seqinfo.ini").read_text().splitlines()
        info = [f"seqLength={frames}" if ln.startswith("seqLength=") else ln for ln in info]
        (folder / name / "seqinfo.ini").write_text("\n".join(info) + "\n")
    return folder


@pytest.fixture(scope="session")
def arena_data(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> ArenaData:
    root = tmp_path_factory.mktemp("arena-data")
    mot17 = data_dir / "mot" / "MOT17"
    anomaly = data_dir / "anomaly" / "hazelnut_toy"
    if not mot17.is_dir() or not anomaly.is_dir():
        pytest.skip("MOT17 or hazelnut_toy not in the shared data")
    heat = first_frames(root / "gt" / "heat", mot17, HEAT_SEQS)
    final = first_frames(root / "gt" / "final", mot17, FINAL_SEQS)
    files = {
        "heat_good": mot_zip(heat, HEAT_SEQS, root / "heat_good.zip", "good"),
        "heat_good2": mot_zip(heat, HEAT_SEQS, root / "heat_good2.zip", "good", seed=2),
        "heat_drop": mot_zip(heat, HEAT_SEQS, root / "heat_drop.zip", "drop", seed=1),
        "heat_baseline": mot_zip(heat, HEAT_SEQS, root / "heat_baseline.zip", "drop", seed=5),
        "heat_shuffle": mot_zip(heat, HEAT_SEQS, root / "heat_shuffle.zip", "shuffle"),
        "heat_partial": mot_zip(heat, HEAT_SEQS[:1], root / "heat_partial.zip", "good"),
        "final_good": mot_zip(final, FINAL_SEQS, root / "final_good.zip", "good"),
        "final_drop": mot_zip(final, FINAL_SEQS, root / "final_drop.zip", "drop", seed=3),
        "final_shuffle": mot_zip(final, FINAL_SEQS, root / "final_shuffle.zip", "shuffle"),
        "anomaly_good": anomaly_zip(anomaly, root / "anomaly_good.zip", "good"),
        "anomaly_noise": anomaly_zip(anomaly, root / "anomaly_noise.csv.zip", "noise", maps=False),
    }
    return ArenaData(root, heat, final, anomaly, files)


def challenge_dict(data: ArenaData, **overrides: Any) -> dict[str, Any]:
    """Two tracks (MOT tracking, anomaly detection), a heat and a final, a panel, awards."""
    challenge: dict[str, Any] = {
        "id": "cvv-cup",
        "title": "China Vision Valley Cup <test>",
        "max_team_size": 3,
        "tracks": [
            {"id": "tracking", "task": "mot", "metric": "HOTA", "time_limit_s": 120},
            {"id": "inspection", "task": "anomaly", "metric": "image_auroc"},
        ],
        "phases": [
            {
                "id": "heat",
                "region": "Hangzhou",
                "start": "2026-11-01T00:00:00Z",
                "end": "2026-11-10T00:00:00Z",
                "limits": {"per_day": 3, "total": 4},
                "final_selections": 1,
                "tracks": {
                    "tracking": {
                        "ground_truth": str(data.heat_gt),
                        "baselines": {"drop60": str(data.files["heat_baseline"])},
                    },
                    "inspection": {"ground_truth": str(data.anomaly_gt)},
                },
            },
            {
                "id": "final",
                "kind": "final",
                "start": "2026-11-20T00:00:00Z",
                "end": "2026-11-25T00:00:00Z",
                "tracks": {
                    "tracking": {"ground_truth": str(data.final_gt), "public": ["MOT17-05-FRCNN"]}
                },
            },
        ],
        "panel": {"judges_per_finalist": 3, "benchmark_weight": 0.5},
        "awards": [
            {"name": "First prize", "count": 1},
            {"name": "Second prize", "count": 1},
            {"name": "Honourable mention", "count": 1},
        ],
    }
    challenge.update(overrides)
    return challenge


@pytest.fixture
def write_challenge(tmp_path: Path, arena_data: ArenaData) -> Callable[..., Path]:
    def write(**overrides: Any) -> Path:
        path = tmp_path / "challenge.yaml"
        path.write_text(yaml.safe_dump(challenge_dict(arena_data, **overrides)))
        return path

    return write


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 10, 30, tzinfo=UTC))
