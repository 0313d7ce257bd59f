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


def test_tracker_thresholds_are_exposed(pets_video: Path, tmp_path: Path) -> None:
    def tracks(*extra: str) -> int:
        out = tmp_path / f"t{len(extra)}.txt"
        proc = run_cli(
            "track", pets_video, "--max-frames", "60", "--no-progress", "--mot-txt", out, *extra
        )
        assert proc.returncode == 0, proc.stderr
        return len({line.split(",")[1] for line in out.read_text().splitlines()})

    default = tracks()
    lower = tracks("--new-track-thresh", "0.2", "--track-thresh", "0.3")
    assert lower > default  # boxes scored under 0.6 now start tracks
    config = tmp_path / "tracker.yaml"
    config.write_text("new_track_thresh: 0.2\nhigh_thresh: 0.3\n")
    assert tracks("--tracker-config", str(config)) == lower
    config.write_text("new_track_threshold: 0.2\n")
    proc = run_cli("track", pets_video, "--tracker-config", config, "--max-frames", "5")
    assert_one_line_error(proc, "unknown tracker setting", 2)


def test_doctor_reports_the_installation(tmp_path: Path) -> None:
    proc = run_cli("doctor", "--db", f"sqlite:///{tmp_path}/none.db")
    assert proc.returncode == 0, proc.stderr
    for text in ("onnxruntime", "ORT providers", "FFmpeg", "model cache", "event store"):
        assert text in proc.stdout, text
    assert "no event store" in proc.stdout and not (tmp_path / "none.db").exists()


def test_tables_fit_80_columns() -> None:
    from shigu.runtime.registry import MODELS

    proc = run_cli("models", "list", env={"COLUMNS": "80"})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80
    for name in MODELS:
        assert sum(1 for line in lines if line.strip().startswith(name)) == 1, name


def test_results_go_to_new_runs_folders_when_no_output_is_given(
    pets_video: Path, tmp_path: Path
) -> None:
    for _ in range(2):
        proc = run_cli("detect", pets_video, "--max-frames", "3", "--no-progress", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
    first = tmp_path / "runs" / "detect" / pets_video.stem
    second = first.with_name(first.name + "2")
    for folder in (first, second):
        assert (folder / "annotated.mp4").stat().st_size > 0
        assert len((folder / "detect.jsonl").read_text().splitlines()) == 3
    assert f"saving to runs/detect/{second.name}/" in proc.stdout
    quiet = tmp_path / "quiet"
    quiet.mkdir()
    proc = run_cli("detect", pets_video, "--max-frames", "3", "--no-save", cwd=quiet)
    assert proc.returncode == 0 and not (quiet / "runs").exists()


def test_bracketed_text_survives_in_messages(tmp_path: Path) -> None:
    """Rich markup must not eat `[...]`: install hints read `shigu[spatial]`, paths `a[1]`."""
    proc = run_cli("pcd", "info", tmp_path / "scan[1].ply")
    assert_one_line_error(proc, "scan[1].ply", 2)


def test_ctrl_c_on_detect_says_what_it_wrote(pets_video: Path, tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import time

    from tests.cli import SHIGU

    out = tmp_path / "d.jsonl"
    proc = subprocess.Popen(
        [*SHIGU, "detect", str(pets_video), "--jsonl", str(out), "--no-progress"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not out.exists() or out.stat().st_size < 2000):
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert f"wrote jsonl: {out}" in stdout and "interrupted" in stdout
    assert 0 < len(out.read_text().splitlines()) < 795
