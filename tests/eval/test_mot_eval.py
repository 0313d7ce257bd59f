"""TrackEval wrapper: ground truth scored against itself, MOT15/MOT17 formats, bad inputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from shigu.core.errors import InputError
from shigu.eval.mot import detect_benchmark, evaluate_mot, scaled_ground_truth
from tests.cli import assert_one_line_error, run_cli

pytestmark = pytest.mark.integration


def _gt_as_results(gt_root: Path, seq: str, out: Path, pedestrians_only: bool) -> None:
    """Write the rows TrackEval scores (not zero-marked; pedestrians for MOT17) as results."""
    rows = np.loadtxt(gt_root / seq / "gt" / "gt.txt", delimiter=",")
    keep = rows[:, 6] != 0
    if pedestrians_only:
        keep &= rows[:, 7] == 1
    rows = rows[keep]
    with (out / f"{seq}.txt").open("w") as fh:
        for r in rows:
            fh.write(
                f"{int(r[0])},{int(r[1])},{r[2]:.2f},{r[3]:.2f},{r[4]:.2f},{r[5]:.2f},1,-1,-1,-1\n"
            )


def test_mot17_ground_truth_scores_perfectly(data_dir: Path, tmp_path: Path) -> None:
    gt = data_dir / "mot" / "MOT17"
    _gt_as_results(gt, "MOT17-05-FRCNN", tmp_path, pedestrians_only=True)
    assert detect_benchmark(gt / "MOT17-05-FRCNN" / "gt" / "gt.txt") == "MOT17"
    result = evaluate_mot(gt, tmp_path, sequences=["MOT17-05-FRCNN"])
    combined = result.combined
    assert combined["HOTA"] == pytest.approx(100.0, abs=0.01)
    assert combined["MOTA"] == pytest.approx(100.0, abs=0.01)
    assert combined["IDF1"] == pytest.approx(100.0, abs=0.01)
    assert combined["IDSW"] == 0
    assert len(result.hota_curve["COMBINED"]) == 19


def test_mot15_world_columns_and_scaled_ground_truth(data_dir: Path, tmp_path: Path) -> None:
    gt = data_dir / "mot" / "MOT15"
    assert detect_benchmark(gt / "PETS09-S2L1" / "gt" / "gt.txt") == "MOT15"
    scaled = scaled_ground_truth(gt, 0.625, tmp_path / "gt")
    rows = np.loadtxt(scaled / "PETS09-S2L1" / "gt" / "gt.txt", delimiter=",")
    orig = np.loadtxt(gt / "PETS09-S2L1" / "gt" / "gt.txt", delimiter=",")
    np.testing.assert_allclose(rows[:, 2:6], orig[:, 2:6] * 0.625, atol=0.01)
    results = tmp_path / "res"
    results.mkdir()
    _gt_as_results(scaled, "PETS09-S2L1", results, pedestrians_only=False)
    combined = evaluate_mot(gt, results, sequences=["PETS09-S2L1"], gt_scale=0.625).combined
    assert combined["HOTA"] == pytest.approx(100.0, abs=0.01)
    # A shifted copy loses localisation: HOTA drops but stays meaningful.
    shifted = np.loadtxt(results / "PETS09-S2L1.txt", delimiter=",")
    shifted[:, 2] += 0.3 * shifted[:, 4]
    np.savetxt(results / "PETS09-S2L1.txt", shifted, delimiter=",", fmt="%.2f")
    worse = evaluate_mot(gt, results, sequences=["PETS09-S2L1"], gt_scale=0.625).combined
    assert 20 < worse["HOTA"] < 90


def test_missing_and_malformed_results_are_clear_errors(data_dir: Path, tmp_path: Path) -> None:
    gt = data_dir / "mot" / "MOT17"
    with pytest.raises(InputError, match="not found"):
        evaluate_mot(gt, tmp_path / "nope")
    (tmp_path / "MOT17-05-FRCNN.txt").write_text("frame id x y w h\nbad row\n")
    with pytest.raises(InputError, match="not a MOTChallenge result file"):
        evaluate_mot(gt, tmp_path, sequences=["MOT17-05-FRCNN"])
    with pytest.raises(InputError, match="no ground truth"):
        evaluate_mot(gt, tmp_path, sequences=["MOT17-99-XYZ"])


def test_eval_cli_table_csv_plot_and_errors(data_dir: Path, tmp_path: Path) -> None:
    gt = tmp_path / "gt"
    gt.mkdir()
    shutil.copytree(
        data_dir / "mot" / "MOT17" / "MOT17-05-FRCNN",
        gt / "MOT17-05-FRCNN",
        ignore=shutil.ignore_patterns("img1"),
    )
    res = tmp_path / "res"
    res.mkdir()
    _gt_as_results(gt, "MOT17-05-FRCNN", res, pedestrians_only=True)
    proc = run_cli("eval", "mot", "--gt", gt, "--results", res)
    assert proc.returncode == 0, proc.stderr
    assert "MOT17-05-FRCNN" in proc.stdout and "100.0" in proc.stdout
    header = (res / "mot_metrics.csv").read_text().splitlines()[0]
    assert header.startswith("sequence,HOTA")
    assert (res / "hota_alpha.png").read_bytes()[:4] == b"\x89PNG"

    assert_one_line_error(
        run_cli("eval", "mot", "--gt", gt, "--results", tmp_path / "absent"), "not found"
    )
    assert_one_line_error(
        run_cli("eval", "mot", "--gt", gt, "--results", res, "--benchmark", "MOT99"),
        "unknown benchmark",
    )
    assert_one_line_error(
        run_cli("eval", "mot", "--gt", gt, "--results", res, "--csv", tmp_path / "x.txt"),
        "--csv",
    )
