"""Image folders: JSONL rows name their file, --out DIR/ writes annotated images by name."""

import json
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from tests.cli import assert_one_line_error, run_cli

pytestmark = pytest.mark.integration


def test_image_folder_outputs(data_dir: Path, tmp_path: Path) -> None:
    images = data_dir / "images" / "coco_val2017"
    proc = run_cli(
        "detect",
        images,
        "--out",
        tmp_path / "annotated",
        "--jsonl",
        tmp_path / "d.jsonl",
        "--no-progress",
    )
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(x) for x in (tmp_path / "d.jsonl").read_text().splitlines()]
    inputs = sorted(p.name for p in images.glob("*.jpg"))
    assert sorted(Path(r["file"]).name for r in rows) == inputs
    written = sorted(p.name for p in (tmp_path / "annotated").iterdir())
    assert written == inputs
    for name in inputs[:2]:
        a = cv2.imread(str(images / name))
        b = cv2.imread(str(tmp_path / "annotated" / name))
        assert a.shape == b.shape and np.abs(a.astype(int) - b).max() > 0  # boxes drawn


def test_mixed_sizes_go_into_an_mp4_without_stretching(data_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    wide = np.full((100, 400, 3), 255, np.uint8)
    tall = np.full((400, 100, 3), 255, np.uint8)
    cv2.imwrite(str(folder / "a.png"), wide)
    cv2.imwrite(str(folder / "b.png"), tall)
    proc = run_cli("detect", folder, "--out", tmp_path / "v.mp4", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    with av.open(str(tmp_path / "v.mp4")) as c:
        frames = [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]
    assert frames[1].shape[:2] == (100, 400)
    # the tall image is fitted, centred on black, not squashed across the width
    assert frames[1][:, :100].mean() < 30 and frames[1][:, 190:210].mean() > 200


def test_folder_out_needs_an_image_input(pets_video: Path, tmp_path: Path) -> None:
    proc = run_cli("detect", pets_video, "--out", tmp_path / "frames", "--max-frames", "2")
    assert_one_line_error(proc, "need an image input", 2)
