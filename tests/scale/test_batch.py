"""`shigu batch` on a real two-node Ray cluster: same output as one process, survives a node
loss, resumes, and reports bad inputs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from shigu.scale.batch import read_parquet
from shigu.scale.inputs import list_inputs, unit_key

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def shigu(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    return subprocess.run(
        [sys.executable, "-m", "shigu", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def _inputs(data_dir: Path, tmp: Path) -> Path:
    """The shared videos and two MOT17 sequences, as a list file."""
    items = [str(p) for p in sorted((data_dir / "video").glob("*.*"))]
    items += [
        str(p)
        for p in sorted((data_dir / "mot" / "MOT17").iterdir())
        if (p / "seqinfo.ini").is_file()
    ][:2]
    listing = tmp / "inputs.txt"
    listing.write_text("# shared videos and MOT17 frames\n" + "\n".join(items) + "\n")
    return listing


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["source", "frame", "track_id", "x1", "y1"]).reset_index(drop=True)


def test_ray_matches_single_process(ray_cluster: object, data_dir: Path, tmp_path: Path) -> None:
    listing = _inputs(data_dir, tmp_path)
    common = ["--max-frames", "40", "--threads", "1"]
    for task in ("track", "detect"):
        local, distributed = tmp_path / f"{task}-local", tmp_path / f"{task}-ray"
        a = shigu("batch", task, str(listing), "--out", str(local), *common)
        assert a.returncode == 0, a.stderr
        b = shigu(
            "batch",
            task,
            str(listing),
            "--out",
            str(distributed),
            "--ray",
            ray_cluster.address,
            *common,
        )  # type: ignore[attr-defined]
        assert b.returncode == 0, b.stderr
        left, right = _sorted(read_parquet(local)), _sorted(read_parquet(distributed))
        assert len(left) > 500
        assert left["source"].nunique() == 5
        pd.testing.assert_frame_equal(left, right)  # identical boxes, scores and track ids
        sub = "mot" if task == "track" else "coco"
        for path in sorted((local / sub).iterdir()):
            assert path.read_bytes() == (distributed / sub / path.name).read_bytes()
        assert sorted(p.name for p in (local / "done").iterdir()) == sorted(
            p.name for p in (distributed / "done").iterdir()
        )


def test_losing_a_worker_node_mid_job(
    own_ray_cluster: object, data_dir: Path, tmp_path: Path
) -> None:
    ray_cluster = own_ray_cluster
    listing = _inputs(data_dir, tmp_path)
    out = tmp_path / "out"
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shigu",
            "batch",
            "detect",
            str(listing),
            "--out",
            str(out),
            "--ray",
            ray_cluster.address,
            "--max-frames",
            "120",
            "--threads",
            "1",
        ],  # type: ignore[attr-defined]
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not any((out / "done").glob("*.json")):
        assert proc.poll() is None, proc.communicate()[1]
        time.sleep(0.2)
    assert len(list((out / "done").glob("*.json"))) < 5, "job finished before the kill"
    ray_cluster.kill_worker(0)  # type: ignore[attr-defined]
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    inputs = list_inputs(str(listing))
    assert sorted(p.stem for p in (out / "done").iterdir()) == sorted(unit_key(u) for u in inputs)
    boxes = read_parquet(out)
    assert boxes["source"].nunique() == len(inputs)
    assert not boxes.duplicated(["source", "frame", "x1", "y1", "x2", "y2", "class_id"]).any()
    for uri in inputs:
        frames = boxes.loc[boxes["source"] == uri, "frame"]
        assert frames.max() <= 119
        summary = json.loads((out / "done" / f"{unit_key(uri)}.json").read_text())
        available = len(list((Path(uri) / "img1").iterdir())) if Path(uri).is_dir() else 10**9
        assert summary["frames"] == min(120, available) and summary["boxes"] == len(frames)
    assert not list(out.rglob(".*.tmp"))


def test_resume_skips_finished_inputs(data_dir: Path, tmp_path: Path) -> None:
    video = data_dir / "video" / "pets2009_s2l1_vtest_480x360.avi"
    out = tmp_path / "out"
    first = shigu("batch", "detect", str(video), "--out", str(out), "--max-frames", "10")
    assert first.returncode == 0, first.stderr
    stamp = (out / "parquet" / f"{unit_key(str(video))}.parquet").stat().st_mtime_ns
    again = shigu("batch", "detect", str(video), "--out", str(out), "--max-frames", "10")
    assert again.returncode == 0 and "already done" in again.stdout
    assert (out / "parquet" / f"{unit_key(str(video))}.parquet").stat().st_mtime_ns == stamp


def test_bad_inputs(data_dir: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    unreachable = shigu(
        "batch",
        "detect",
        str(data_dir / "video"),
        "--out",
        str(tmp_path / "a"),
        "--ray",
        "127.0.0.1:1",
        timeout=120,
    )
    assert unreachable.returncode != 0 and "cannot reach the Ray cluster" in unreachable.stderr
    assert time.monotonic() - started < 60
    assert "Traceback" not in unreachable.stderr

    missing = shigu("batch", "track", str(tmp_path / "nope"), "--out", str(tmp_path / "b"))
    assert missing.returncode == 2 and "input not found" in missing.stderr

    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(5000))
    listing = tmp_path / "list.txt"
    good = data_dir / "video" / "pets2009_s2l1_vtest_480x360.avi"
    listing.write_text(f"{good}\n{corrupt}\n")
    out = tmp_path / "c"
    mixed = shigu("batch", "detect", str(listing), "--out", str(out), "--max-frames", "10")
    assert mixed.returncode == 1
    assert "1 input(s) done, 1 failed" in " ".join(mixed.stdout.split())
    assert (out / "done" / f"{unit_key(str(good))}.json").is_file()
    failure = json.loads((out / "failed" / f"{unit_key(str(corrupt))}.json").read_text())
    assert failure["status"] == "failed" and failure["error"]
    assert "Traceback" not in mixed.stderr


def test_batch_inspect_local_and_ray_agree(
    ray_cluster: object, data_dir: Path, tmp_path: Path
) -> None:
    hazelnut = data_dir / "anomaly" / "hazelnut_toy"
    model = tmp_path / "hazelnut.shigu"
    trained = shigu("inspect", "train", str(hazelnut), "--out", str(model))
    assert trained.returncode == 0, trained.stderr
    images = tmp_path / "images"
    shutil.copytree(hazelnut / "test", images)
    (images / "colour" / "broken.png").write_bytes(b"not an image")
    local, distributed = tmp_path / "local", tmp_path / "ray"
    a = shigu("batch", "inspect", str(images), "--model", str(model), "--out", str(local))
    assert a.returncode == 0, a.stderr
    b = shigu(
        "batch",
        "inspect",
        str(images),
        "--model",
        str(model),
        "--out",
        str(distributed),
        "--ray",
        ray_cluster.address,
    )  # type: ignore[attr-defined]
    assert b.returncode == 0, b.stderr
    left = read_parquet(local).sort_values("source").reset_index(drop=True)
    right = read_parquet(distributed).sort_values("source").reset_index(drop=True)
    pd.testing.assert_frame_equal(left, right)
    assert len(left) == 24
    broken = left[left["source"].str.endswith("broken.png")].iloc[0]
    assert broken["error"] == "unreadable image" and pd.isna(broken["score"])
    scored = left.dropna(subset=["score"])
    defects = scored["source"].str.contains("/colour/")
    assert (
        scored.loc[defects, "anomalous"].sum() >= 16 and not scored.loc[~defects, "anomalous"].any()
    )
    again = shigu("batch", "inspect", str(images), "--model", str(model), "--out", str(local))
    assert again.returncode == 0 and "already done" in again.stdout
    bad = shigu(
        "batch",
        "inspect",
        str(images),
        "--model",
        str(tmp_path / "none.shigu"),
        "--out",
        str(tmp_path / "x"),
    )
    assert bad.returncode == 2 and "model file not found" in bad.stderr
