"""Issue acceptance on real data: MOT17 public detections vs Roboflow `trackers`, PETS e2e."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shigu.eval.mot import evaluate_mot
from shigu.eval.reference_trackers import ReferenceTracker
from shigu.track import create_tracker
from shigu.track.offline import (
    SequenceDetections,
    find_mot_sequences,
    load_mot_detections,
    run_tracker,
    write_mot_results,
)
from tests.cli import assert_one_line_error, run_cli

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def mot17(data_dir: Path) -> tuple[Path, list[SequenceDetections]]:
    root = data_dir / "mot" / "MOT17"
    return root, [load_mot_detections(p) for p in find_mot_sequences(root)]


def _hota(make, seqs: list[SequenceDetections], gt: Path, out: Path) -> float:  # type: ignore[no-untyped-def]
    out.mkdir()
    for seq in seqs:
        run = run_tracker(make(seq.info.frame_rate), seq)
        write_mot_results(out / f"{seq.info.name}.txt", run.tracked)
    return evaluate_mot(gt, out, sequences=[s.info.name for s in seqs]).combined["HOTA"]


def test_default_tracker_beats_every_reference_by_a_point(
    mot17: tuple[Path, list[SequenceDetections]], tmp_path: Path
) -> None:
    gt, seqs = mot17
    refs = {
        name: _hota(lambda fr, n=name: ReferenceTracker(n, fr), seqs, gt, tmp_path / name)
        for name in ("bytetrack", "ocsort", "sort", "botsort")
    }
    ours = _hota(lambda fr: create_tracker(frame_rate=fr), seqs, gt, tmp_path / "shigu")
    assert ours >= max(refs.values()) + 1.0, (ours, refs)


def test_track_mot_cli_writes_trackeval_ready_results(
    mot17: tuple[Path, list[SequenceDetections]], tmp_path: Path
) -> None:
    gt, seqs = mot17
    out = tmp_path / "out"
    proc = run_cli("track", "--mot", gt, "--out", out, "--tracker", "ocsort", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.glob("*.txt")) == [f"{s.info.name}.txt" for s in seqs]
    first = (out / "MOT17-05-FRCNN.txt").read_text().splitlines()[0].split(",")
    assert len(first) == 10 and first[7:] == ["-1", "-1", "-1"]
    hota = evaluate_mot(gt, out).combined["HOTA"]
    assert hota > 45
    assert_one_line_error(
        run_cli("track", "--mot", tmp_path / "missing", "--out", out), "not found"
    )
    assert_one_line_error(
        run_cli("track", "--mot", gt, "--out", out, "--tracker", "nosuch"), "nosuch"
    )


def test_pets_end_to_end_reaches_hota_50(data_dir: Path, pets_video: Path, tmp_path: Path) -> None:
    out = tmp_path / "res"
    out.mkdir()
    mp4, jsonl = tmp_path / "pets.mp4", tmp_path / "pets.jsonl"
    proc = run_cli(
        "track",
        pets_video,
        "--classes",
        "person",
        "--mot-txt",
        out / "PETS09-S2L1.txt",
        "--out",
        mp4,
        "--jsonl",
        jsonl,
        "--no-progress",
    )
    assert proc.returncode == 0, proc.stderr
    assert mp4.stat().st_size > 100_000
    record = json.loads(jsonl.read_text().splitlines()[100])
    assert all("tracker_id" in d for d in record["detections"])
    metrics = evaluate_mot(
        data_dir / "mot" / "MOT15", out, sequences=["PETS09-S2L1"], gt_scale=0.625
    ).combined
    assert metrics["HOTA"] >= 50.0, metrics
    assert metrics["MOTA"] >= 76.5, metrics


def test_track_mot_uses_the_cross_validated_public_detection_thresholds(
    data_dir: Path, tmp_path: Path
) -> None:
    """`--mot` on MOT15's ACF detections: the public-detection default (0.3, chosen
    leave-one-sequence-out) against the live-detector preset (0.5 / 0.6), and the user's
    options still win."""
    mot15 = data_dir / "mot" / "MOT15"
    seqs = ["PETS09-S2L1", "TUD-Campus", "ETH-Sunnyday"]
    default, preset = tmp_path / "default", tmp_path / "preset"
    assert run_cli("track", "--mot", mot15, "--out", default, "--no-progress").returncode == 0
    proc = run_cli("track", "--mot", mot15, "--out", preset, "--no-progress",
                   "--track-thresh", "0.5", "--new-track-thresh", "0.6")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    ours = evaluate_mot(mot15, default, sequences=seqs).combined["HOTA"]
    before = evaluate_mot(mot15, preset, sequences=seqs).combined["HOTA"]
    assert ours >= before + 3.0, (ours, before)
