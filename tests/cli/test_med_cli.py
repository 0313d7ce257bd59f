"""`shigu med` as a user runs it: info, convert (against the real dcm2niix), metrics, masks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tests.cli import assert_one_line_error, run_cli
from tests.solutions.medical.conftest import run_dcm2niix

pytestmark = pytest.mark.integration


def test_convert_matches_dcm2niix_and_writes_sidecar(medical_dir: Path, tmp_path: Path) -> None:
    series = medical_dir / "ct_philips_phantom_5mm"
    out = tmp_path / "phantom.nii.gz"
    proc = run_cli("med", "convert", series, "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "512 x 512 x 28 voxels" in proc.stdout
    ref = nib.load(run_dcm2niix(series, tmp_path / "ref")[0])
    ours = nib.load(out)
    np.testing.assert_allclose(ours.affine, ref.affine, atol=1e-4)
    np.testing.assert_array_equal(ours.get_fdata(), ref.get_fdata())
    sidecar = json.loads((tmp_path / "phantom.json").read_text())
    assert sidecar["Modality"] == "CT" and sidecar["SeriesNumber"] == 201

    tilted = tmp_path / "tilt.nii"
    proc = run_cli("med", "convert", medical_dir / "ct_ge_head_gantry_tilt", "-o", tilted)
    assert proc.returncode == 0, proc.stderr
    assert "gantry tilt of 18.5 degrees corrected" in proc.stderr
    assert nib.load(tilted).shape == (512, 611, 56)


def test_info_lists_series_and_describes_volumes(medical_dir: Path, tmp_path: Path) -> None:
    proc = run_cli("med", "info", medical_dir, "--json", tmp_path / "all.json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "all.json").read_text())
    assert {s["number"] for s in report["series"]} >= {2, 201}
    assert "pass --series" in proc.stdout
    proc = run_cli(
        "med", "info", medical_dir / "ct_ge_head_gantry_tilt", "--json", tmp_path / "ge.json"
    )
    assert proc.returncode == 0, proc.stderr
    volume = json.loads((tmp_path / "ge.json").read_text())["volume"]
    assert volume["shape"] == [512, 611, 56] and volume["orientation"] == "LAS"
    assert volume["Modality"] == "CT" and len(volume["notes"]) == 2
    proc = run_cli("med", "info", medical_dir / "totalsegmentator" / "example_ct_sm.nii.gz")
    assert proc.returncode == 0 and "122 x 101 x 30" in proc.stdout and "RAS" in proc.stdout


def test_metrics_and_masks(medical_dir: Path, tmp_path: Path) -> None:
    ts = medical_dir / "totalsegmentator"
    masks = tmp_path / "masks"
    proc = run_cli(
        "med", "masks", ts / "example_ct_sm.nii.gz", "--out", masks, "--json", tmp_path / "vol.json"
    )
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in masks.iterdir()} == {
        "body.nii.gz",
        "lungs.nii.gz",
        "bone.nii.gz",
        "labels.nii.gz",
    }
    volumes = json.loads((tmp_path / "vol.json").read_text())["volumes_ml"]
    assert volumes["body"] > volumes["bone"] > 0
    out = tmp_path / "scores.json"
    proc = run_cli(
        "med",
        "metrics",
        "--pred",
        ts / "example_seg.nii.gz",
        "--gt",
        ts / "example_seg.nii.gz",
        "--labels",
        "5,10,999",
        "--json",
        out,
    )
    assert proc.returncode == 0, proc.stderr
    scores = json.loads(out.read_text())
    assert [s["label"] for s in scores["labels"]] == [5, 10, 999]
    liver, _, absent = scores["labels"]
    assert liver["dice"] == 1.0 and liver["hd95_mm"] == 0.0
    assert absent["gt_empty"] and absent["pred_empty"] and absent["dice"] == 1.0
    proc = run_cli("med", "masks", medical_dir / "ct_philips_phantom_5mm", "--out", masks, "--seg")
    assert proc.returncode == 0, proc.stderr
    proc = run_cli(
        "med",
        "metrics",
        "--pred",
        masks / "masks.dcm",
        "--gt",
        masks / "bone.nii.gz",
        "--labels",
        "3",
    )  # fmt: skip  (SEG segment 3 is bone; the NIfTI's label is 1)
    assert proc.returncode == 0, proc.stderr


def test_bad_inputs_are_one_line_errors(medical_dir: Path, tmp_path: Path) -> None:
    phantom = sorted(
        (medical_dir / "ct_philips_phantom_5mm").glob("*.dcm"), key=lambda p: int(p.stem[1:])
    )
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for f in phantom[:4] + sorted((medical_dir / "ct_ge_head_gantry_tilt").glob("*.dcm"))[:4]:
        shutil.copy(f, mixed / f"{f.parent.name}_{f.name}")
    out = tmp_path / "o.nii.gz"
    assert_one_line_error(run_cli("med", "convert", mixed, "--out", out), "holds 2 series", 2)
    gap = tmp_path / "gap"
    gap.mkdir()
    for f in phantom[:5] + phantom[6:]:
        shutil.copy(f, gap / f.name)
    (gap / "notes.txt").write_text("not DICOM")
    assert_one_line_error(run_cli("med", "convert", gap, "--out", out), "missing between", 2)
    proc = run_cli("med", "convert", gap, "--out", out, "--allow-gaps")
    assert proc.returncode == 0, proc.stderr  # notes.txt is skipped
    out.unlink()
    truncated = tmp_path / "truncated"
    truncated.mkdir()
    for f in phantom[:3]:
        shutil.copy(f, truncated / f.name)
    victim = truncated / phantom[1].name
    victim.write_bytes(victim.read_bytes()[:200_000])
    assert_one_line_error(run_cli("med", "convert", truncated, "--out", out), phantom[1].name, 2)
    assert not out.exists() and not list(tmp_path.glob(".o.nii.gz*"))  # nothing half written
    assert_one_line_error(
        run_cli("med", "convert", gap, "--out", tmp_path / "x.png"), "should end in .nii", 2
    )
    assert_one_line_error(
        run_cli("med", "convert", tmp_path / "nope", "--out", out), "does not exist", 2
    )
    assert_one_line_error(
        run_cli(
            "med",
            "metrics",
            "--pred",
            medical_dir / "totalsegmentator" / "example_ct_sm.nii.gz",
            "--gt",
            medical_dir / "totalsegmentator" / "example_seg.nii.gz",
        ),
        "not a label map",
        2,
    )
    assert_one_line_error(
        run_cli(
            "med",
            "metrics",
            "--pred",
            medical_dir / "rtstruct" / "rt.dcm",
            "--gt",
            medical_dir / "totalsegmentator" / "example_seg.nii.gz",
        ),
        "not on the ground truth's grid",
        2,
    )
    assert_one_line_error(
        run_cli("med", "metrics", "--pred", out, "--gt", out, "--labels", "a,b"), "--labels", 2
    )
    assert_one_line_error(
        run_cli(
            "med", "masks", medical_dir / "ct_ge_head_gantry_tilt", "--out", tmp_path / "m", "--seg"
        ),
        "not resampled",
        2,
    )


def test_deid_through_the_cli(medical_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "deid"
    proc = run_cli(
        "med",
        "deid",
        medical_dir / "ct_philips_phantom_5mm",
        "--out",
        out,
        "--profile",
        "basic,retain-dates",
        "--key",
        "secret",
    )
    assert proc.returncode == 0, proc.stderr
    assert "wrote 28 file(s)" in proc.stdout and (out / "deid_audit.csv").is_file()
    series = next(p for p in out.iterdir() if p.is_dir())
    proc = run_cli("med", "convert", series, "--out", tmp_path / "v.nii.gz")
    assert proc.returncode == 0, proc.stderr  # still one series that converts
    assert_one_line_error(
        run_cli(
            "med",
            "deid",
            medical_dir / "ct_philips_phantom_5mm",
            "--out",
            out,
            "--profile",
            "basic,retain-everything",
        ),
        "not a profile",
        2,
    )
    assert_one_line_error(
        run_cli("med", "deid", tmp_path / "missing", "--out", out), "does not exist", 2
    )


def test_view_writes_a_three_plane_png(medical_dir: Path, tmp_path: Path) -> None:
    import cv2

    out = tmp_path / "head.png"
    proc = run_cli(
        "med", "view", medical_dir / "ct_ge_head_gantry_tilt", "--out", out, "--window", "brain"
    )
    assert proc.returncode == 0, proc.stderr
    picture = cv2.imread(str(out))
    assert picture is not None and picture.shape[1] > 3 * 500  # three planes side by side
    ts = medical_dir / "totalsegmentator"
    proc = run_cli(
        "med",
        "view",
        ts / "example_ct_sm.nii.gz",
        "--out",
        tmp_path / "ts.png",
        "--overlay",
        ts / "example_seg.nii.gz",
    )
    assert proc.returncode == 0, proc.stderr
    assert_one_line_error(
        run_cli(
            "med",
            "view",
            ts / "example_ct_sm.nii.gz",
            "--out",
            tmp_path / "x.png",
            "--window",
            "sunny",
        ),
        "not a preset",
        2,
    )
    assert_one_line_error(
        run_cli("med", "view", ts / "example_ct_sm.nii.gz", "--out", tmp_path / "x.jpg"), ".png", 2
    )


def test_chest_radiographs_are_described_and_viewed(medical_dir: Path, tmp_path: Path) -> None:
    import cv2

    for image in (
        medical_dir / "cxr" / "nih" / "00000001_000.png",
        medical_dir / "cxr" / "tbx11k" / "imgs" / "tb" / "tb0005.png",
    ):
        proc = run_cli("med", "info", image, "--json", tmp_path / "i.json")
        assert proc.returncode == 0, proc.stderr
        assert "no patient geometry" in proc.stdout
        out = tmp_path / f"{image.stem}.png"
        assert run_cli("med", "view", image, "--out", out).returncode == 0
        original, shown = cv2.imread(str(image), cv2.IMREAD_GRAYSCALE), cv2.imread(str(out))
        assert shown.shape[:2] == original.shape  # the one plane, not flipped
        assert np.corrcoef(shown[..., 0].ravel(), original.ravel())[0, 1] > 0.95


def test_info_says_what_segmentations_and_reports_are(medical_dir: Path, tmp_path: Path) -> None:
    seg = medical_dir / "dicom_seg_sr" / "seg_image_ct_binary_overlap.dcm"
    proc = run_cli("med", "info", seg, "--json", tmp_path / "seg.json")
    assert proc.returncode == 0, proc.stderr
    described = json.loads((tmp_path / "seg.json").read_text())
    assert described["kind"] == "DICOM SEG" and set(described["segments"]) == {"1", "2"}
    proc = run_cli("med", "info", medical_dir / "rtstruct" / "rt.dcm")
    assert proc.returncode == 0 and "RTSTRUCT: 1 segment(s)" in " ".join(proc.stdout.split())
    proc = run_cli("med", "info", medical_dir / "dicom_seg_sr" / "sr_document.dcm")
    assert proc.returncode == 0 and "structured report" in proc.stdout
