"""The pipeline with a secondary model: poses on tracked people reach frames and events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from shigu.pipeline import Pipeline, parse_config

pytestmark = pytest.mark.integration


def test_pose_as_secondary_model_in_the_pipeline(pets_video: Path, tmp_path: Path) -> None:
    cfg = parse_config({
        "sources": [{"id": "gate", "uri": str(pets_video)}],
        "pipeline": {
            "detector": {"classes": ["person"]},
            "secondary": [{"model": "movenet-lightning", "min_box": 40, "every_n_frames": 2}],
        },
        "zones": [{"id": "all", "source": "gate",
                   "polygon": [[0, 0], [480, 0], [480, 360], [0, 360]],
                   "rules": [{"type": "intrusion", "classes": ["person"]}]}],
        "store": {"url": f"sqlite:///{tmp_path}/s.db", "media_dir": str(tmp_path / "m")},
        "media": {"snapshots": False},
        "sinks": {"jsonl": str(tmp_path / "events.jsonl")},
    })  # fmt: skip
    frames: list[dict[str, np.ndarray]] = []
    pipeline = Pipeline(cfg, max_frames=16, on_frame=lambda sid, img, d: frames.append(d.data))
    summary = pipeline.run()
    stage = summary["stages"]["pose"]
    assert stage["kind"] == "secondary" and stage["crops"] > 0 and stage["calls"] <= 16
    with_pose = [d for d in frames if "pose" in d]
    assert len(with_pose) >= 14  # carried between the frames it ran on
    ages = np.concatenate([d["pose_age"] for d in with_pose])
    assert set(ages.tolist()) >= {0, 1}  # every 2nd frame per track: fresh, then one old
    events = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    started = [e["event"] for e in events if e["type"] == "new"]
    assert started, events[:3]
    posed = [e for e in started if "pose" in e["attributes"]]
    assert posed and np.array(posed[0]["attributes"]["pose"]).shape == (17, 3)


def test_a_source_can_choose_its_own_detector(pets_video: Path, tmp_path: Path) -> None:
    cfg = parse_config({
        "sources": [{"id": "a", "uri": str(pets_video)},
                    {"id": "b", "uri": str(pets_video),
                     "detector": {"model": "light-person", "conf": 0.3}},
                    {"id": "c", "uri": str(pets_video)}],
        "pipeline": {"detector": {"classes": ["person"]}},
        "store": {"url": f"sqlite:///{tmp_path}/s.db", "media_dir": str(tmp_path / "m")},
        "media": {"snapshots": False},
    })  # fmt: skip
    labels: dict[str, set[int]] = {"a": set(), "b": set(), "c": set()}
    pipeline = Pipeline(
        cfg, max_frames=12, on_frame=lambda sid, img, d: labels[sid].update(d.class_id.tolist())
    )
    summary = pipeline.run()
    assert len(pipeline.detectors) == 2  # a and c share one loaded model
    assert pipeline.states["a"].detector is pipeline.states["c"].detector
    assert pipeline.states["b"].detector is not pipeline.states["a"].detector
    assert pipeline.states["b"].detector.labels == ("person",)
    assert all(summary["sources"][s]["frames"] == 12 for s in "abc")
    assert all(summary["sources"][s]["tracks"] > 0 for s in "abc")


def test_reid_embedder_once_per_track(pets_video: Path, tmp_path: Path) -> None:
    """The ReID model as a once-per-track secondary model: one crop per track, kept after."""
    cfg = parse_config({
        "sources": [{"id": "gate", "uri": str(pets_video)}],
        "pipeline": {"detector": {"classes": ["person"]},
                     "secondary": [{"model": "person-reid-0288", "once_per_track": True}]},
        "store": {"url": f"sqlite:///{tmp_path}/s.db", "media_dir": str(tmp_path / "m")},
        "media": {"snapshots": False},
    })  # fmt: skip
    last: list[Any] = []
    pipeline = Pipeline(cfg, max_frames=20, on_frame=lambda sid, img, d: last.append(d))
    summary = pipeline.run()
    stage = summary["stages"]["embedding"]
    ids = {int(t) for d in last if d.tracker_id is not None for t in d.tracker_id if t >= 0}
    assert stage["crops"] == len(pipeline.graph.secondary[0].tracks) <= len(ids) + 2
    final = last[-1]
    emb = final.data["embedding"]
    known = np.isfinite(emb).all(axis=1)
    assert known.sum() >= len(final) - 2 and emb.shape[1] == 256
    np.testing.assert_allclose(np.linalg.norm(emb[known], axis=1), 1.0, atol=1e-4)
    assert (final.data["embedding_age"][known] >= 0).all()
