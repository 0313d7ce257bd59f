"""``shigu pose`` and ``shigu eval keypoints`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.cli import assert_one_line_error, run_cli

pytestmark = pytest.mark.integration


def test_pose_images_to_coco_and_eval(data_dir: Path, tmp_path: Path) -> None:
    root = data_dir / "pose" / "coco"
    gt = root / "person_keypoints_subset.json"
    pred, out = tmp_path / "poses.json", tmp_path / "annotated"
    proc = run_cli("pose", root / "images", "--coco-json", pred, "--out", f"{out}/",
                   "--jsonl", tmp_path / "p.jsonl", "--no-progress")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "poses for 3 of 3 people" in proc.stdout
    results = json.loads(pred.read_text())
    assert {r["image_id"] for r in results} == {785, 40083}
    assert all(len(r["keypoints"]) == 51 and r["category_id"] == 1 for r in results)
    assert sorted(p.name for p in out.iterdir()) == ["000000000785.jpg", "000000040083.jpg"]
    rows = [json.loads(x) for x in (tmp_path / "p.jsonl").read_text().splitlines()]
    person = rows[0]["detections"][0]
    assert np.array(person["pose"]).shape == (17, 3) and "file" in rows[0]
    proc = run_cli("eval", "keypoints", "--gt", gt, "--pred", pred, "--json", tmp_path / "m.json")
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["AP50"] >= 0.9 and metrics["AP"] >= 0.5, metrics


def test_pose_video_blazepose_world(pets_video: Path, tmp_path: Path) -> None:
    jsonl = tmp_path / "p.jsonl"
    proc = run_cli("pose", pets_video, "--model", "blazepose-full", "--jsonl", jsonl,
                   "--max-frames", "8", "--no-progress")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(x) for x in jsonl.read_text().splitlines()]
    people = [d for r in rows for d in r["detections"] if "pose" in d]
    assert people and all("tracker_id" in d for d in people)
    assert np.array(people[0]["pose_world"]).shape == (33, 3)


@pytest.mark.parametrize(("args", "message"), [
    (["pose", "{data}/pose/coco/images", "--model", "yolox-nano"], "not a pose model"),
    (["pose", "{video}", "--coco-json", "{tmp}/x.json"], "--coco-json needs image inputs"),
    (["pose", "{data}/nope.mp4"], "not found"),
    (["eval", "keypoints", "--gt", "{tmp}/missing.json", "--pred", "{tmp}/x.json"],
     "ground truth not found"),
    (["eval", "keypoints", "--gt", "{data}/pose/coco/person_keypoints_subset.json",
      "--pred", "{data}/pose/coco/person_keypoints_subset.json"], "not a list"),
])  # fmt: skip
def test_pose_mistakes_are_one_line(args: list[str], message: str, data_dir: Path,
                                    pets_video: Path, tmp_path: Path) -> None:  # fmt: skip
    full = [a.format(data=data_dir, video=pets_video, tmp=tmp_path) for a in args]
    extra = ["--no-progress"] if full[0] == "pose" else []
    assert_one_line_error(run_cli(*full, *extra), message)
