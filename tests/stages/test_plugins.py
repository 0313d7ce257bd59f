"""A third-party stage package, installed with pip, runs inside `shigu run` unchanged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from tests.cli import assert_one_line_error, run_cli

pytestmark = pytest.mark.integration
PLUGIN = Path(__file__).parent / "plugin_demo"


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo plugin pip-installed into a folder of its own (put on PYTHONPATH)."""
    import shutil

    target = tmp_path_factory.mktemp("plugin_site")
    build = tmp_path_factory.mktemp("plugin_build")
    source = build / "plugin_demo"  # a copy: building writes build/ and egg-info beside it
    shutil.copytree(PLUGIN, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "--target", str(target), str(source)],
        capture_output=True, text=True, cwd=build, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert list(target.glob("shigu_plugin_demo-*.dist-info/entry_points.txt"))
    return target


def _config(tmp_path: Path, video: Path, stages: list[dict], **extra: object) -> Path:
    import yaml

    cfg = {
        "sources": [{"id": "cam", "uri": str(video)}],
        "pipeline": {"stages": stages, "detector": {"classes": ["person"]}},
        **extra,
        "store": {"url": f"sqlite:///{tmp_path}/s.db", "media_dir": str(tmp_path / "media")},
        "sinks": {"video_dir": str(tmp_path / "video")},
    }
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_plugin_stages_run_in_the_pipeline(plugin_path: Path, pets_video: Path,
                                           tmp_path: Path) -> None:  # fmt: skip
    counts = tmp_path / "counts.jsonl"
    cfg = _config(tmp_path, pets_video, [
        {"use": "grey"}, {"use": "people-counter", "options": {"path": str(counts)}},
    ])  # fmt: skip
    env = {"PYTHONPATH": str(plugin_path)}
    proc = run_cli("run", cfg, "--max-frames", "12", env=env)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(x) for x in counts.read_text().splitlines()]
    assert [r["frame"] for r in rows] == list(range(12))
    assert max(r["count"] for r in rows) >= 3  # PETS: several people from the first frame
    with av.open(str(tmp_path / "video" / "cam.mp4")) as container:
        image = next(container.decode(video=0)).to_ndarray(format="rgb24").astype(int)
    spread = np.abs(image - image.mean(axis=2, keepdims=True))
    assert np.median(spread) <= 3  # the pre stage's grey frames reached the output


def test_plugin_options_are_validated(plugin_path: Path, pets_video: Path,
                                      tmp_path: Path) -> None:  # fmt: skip
    env = {"PYTHONPATH": str(plugin_path)}
    cfg = _config(tmp_path, pets_video, [{"use": "people-counter", "options": {"pth": "x"}}])
    proc = run_cli("config", "validate", cfg, env=env)
    assert proc.returncode != 0 and "pipeline.stages[0]: options.path: Field required" in (
        proc.stdout + proc.stderr
    )
    cfg = _config(tmp_path, pets_video, [{"use": "no-such-stage"}])
    assert_one_line_error(run_cli("run", cfg, env=env), "unknown stage 'no-such-stage'")


def test_plugin_rule_and_decoder(plugin_path: Path, pets_video: Path, models_dir: Path,
                                 tmp_path: Path) -> None:  # fmt: skip
    """A zone rule and a detector decoder from the plugin, in `shigu run` and `shigu detect`."""
    zone = {
        "id": "all",
        "source": "cam",
        "polygon": [[0, 0], [480, 0], [480, 360], [0, 360]],
        "rules": [{"type": "plugin", "use": "group", "options": {"min_people": 3}}],
    }
    cfg = _config(tmp_path, pets_video, [], zones=[zone])  # fmt: skip
    env = {"PYTHONPATH": str(plugin_path)}
    summary = tmp_path / "summary.json"
    proc = run_cli("run", cfg, "--max-frames", "20", "--summary-json", summary, env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(summary.read_text())["events"].get("group", 0) >= 1
    bad = _config(tmp_path, pets_video, [], zones=[{**zone, "rules": [
        {"type": "plugin", "use": "group", "options": {"min_people": 0}}]}])  # fmt: skip
    proc = run_cli("config", "validate", bad, env=env)
    assert proc.returncode != 0 and "options.min_people" in proc.stdout + proc.stderr
    out = tmp_path / "d.jsonl"
    proc = run_cli("detect", pets_video, "--model", models_dir / "yolox_nano.onnx", "--format",
                   "renamed-yolox", "--jsonl", out, "--max-frames", "3", "--no-progress",
                   env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert len(out.read_text().splitlines()) == 3
    assert_one_line_error(run_cli("detect", pets_video, "--model", models_dir / "yolox_nano.onnx",
                                  "--format", "renamed-yolox", "--no-progress"),
                          "unknown model format")  # fmt: skip
