"""`shigu detect --slice` and `shigu track --slice`, run as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.cli import assert_one_line_error, run_cli

pytestmark = pytest.mark.integration


def _count(jsonl: Path) -> int:
    return sum(len(json.loads(x)["detections"]) for x in jsonl.read_text().splitlines())


def test_detect_slice_finds_small_objects_the_whole_image_misses(
    data_dir: Path, tmp_path: Path
) -> None:
    images = data_dir / "aerial" / "dota" / "images"
    whole, sliced = tmp_path / "whole.jsonl", tmp_path / "sliced.jsonl"
    proc = run_cli("detect", images, "--conf", "0.05", "--jsonl", whole, "--no-progress")
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("detect", images, "--conf", "0.05", "--slice", "160", "--overlap", "0.2",
                   "--jsonl", sliced, "--out", tmp_path / "annotated", "--no-progress")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert _count(sliced) >= 5 * max(1, _count(whole)), (_count(whole), _count(sliced))
    assert (tmp_path / "annotated" / "P1888.png").exists() or list(
        (tmp_path / "annotated").iterdir()
    )


def test_track_slice_on_video(pets_video: Path, tmp_path: Path) -> None:
    mot = tmp_path / "t.txt"
    proc = run_cli("track", pets_video, "--slice", "320", "--max-frames", "20", "--mot-txt", mot,
                   "--classes", "person", "--no-progress")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    ids = {line.split(",")[1] for line in mot.read_text().splitlines()}
    assert len(ids) >= 3


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--slice", "big"], "--slice must be a tile size"),
     (["--slice", "8"], "32..8192"),
     (["--slice", "640", "--slice-merge", "mean"], "--slice-merge must be"),
     (["--slice", "640", "--overlap", "1.5"], "overlap")],
)  # fmt: skip
def test_bad_slice_options_are_one_line_errors(
    data_dir: Path, args: list[str], message: str
) -> None:
    proc = run_cli("detect", data_dir / "aerial" / "dota" / "images", *args, "--no-save")
    assert_one_line_error(proc, message)


def test_batch_detect_slices_still_images_as_detect_does(data_dir: Path, tmp_path: Path) -> None:
    images = data_dir / "aerial" / "dota" / "images"
    jsonl, out = tmp_path / "sliced.jsonl", tmp_path / "batch"
    proc = run_cli("detect", images, "--conf", "0.05", "--slice", "160", "--jsonl", jsonl,
                   "--no-progress")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("batch", "detect", images, "--out", out, "--conf", "0.05", "--slice", "160")
    assert proc.returncode == 0, proc.stderr
    results = json.loads((out / "coco_results.json").read_text())
    (names,) = [im["file_name"] for im in json.loads((out / "coco_images.json").read_text())
                ["images"]]  # fmt: skip
    assert names.endswith("P1888.png")
    assert len(results) == _count(jsonl) > 30
    ours = sorted(tuple(round(v, 1) for v in r["bbox"]) for r in results)
    theirs = sorted(
        (round(d["xyxy"][0], 1), round(d["xyxy"][1], 1))
        for line in jsonl.read_text().splitlines() for d in json.loads(line)["detections"]
    )  # fmt: skip
    np.testing.assert_allclose([b[:2] for b in ours], theirs, atol=0.11)
    proc = run_cli("batch", "detect", images, "--out", out, "--conf", "0.05", "--slice", "320")
    assert_one_line_error(proc, "done with other settings")
