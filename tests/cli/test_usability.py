"""A new user's mistakes: each ends in one line and a clear exit code, before any work."""

from pathlib import Path

import pytest

from shigu.detect.factory import load_detector
from tests.cli import assert_one_line_error, run_cli

pytestmark = pytest.mark.integration


def test_unquoted_glob_is_explained(data_dir: Path) -> None:
    images = sorted((data_dir / "images" / "coco_val2017").glob("*.jpg"))[:3]
    proc = run_cli("detect", *images)
    assert_one_line_error(proc, "quote it", 2)


def test_detector_given_as_reid_model(pets_video: Path) -> None:
    proc = run_cli("track", pets_video, "--reid", "yolox-nano", "--max-frames", "3")
    assert_one_line_error(proc, "not a ReID embedder", 4)


@pytest.mark.parametrize("flag", ["--out", "--jsonl"])
def test_unwritable_output_fails_before_work(pets_video: Path, flag: str) -> None:
    name = "/proc/shigu-test.mp4" if flag == "--out" else "/proc/shigu-test.jsonl"
    proc = run_cli("detect", pets_video, flag, name, "--max-frames", "3")
    assert_one_line_error(proc, "is not writable", 2)
    assert "frames in" not in proc.stdout  # nothing ran


def test_per_model_default_threshold(models_dir: Path) -> None:
    assert load_detector("yunet-face").conf == 0.9  # OpenCV's YuNet demo threshold
    assert load_detector("yolox-nano").conf == 0.25
    assert load_detector("yunet-face", conf=0.5).conf == 0.5
    proc = run_cli("models", "info", "yunet-face")
    assert proc.returncode == 0 and "0.9" in proc.stdout


def test_out_of_range_threshold() -> None:
    assert_one_line_error(run_cli("detect", "x.mp4", "--conf", "7"), "--conf", 2)
