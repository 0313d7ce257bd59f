"""The shared medical data (``$SHIGU_TEST_DATA/medical``) and dcm2niix's outputs of it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def run_dcm2niix(series: Path, out: Path) -> list[Path]:
    """Run the real dcm2niix (the PyPI wheel's binary) on ``series``; its NIfTI outputs."""
    beside = Path(sys.executable).with_name("dcm2niix")  # the venv's, when it is not on PATH
    exe = str(beside) if beside.exists() else shutil.which("dcm2niix")
    assert exe, "dcm2niix is a test dependency (pip install dcm2niix)"
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [exe, "-z", "y", "-f", "%s", "-o", str(out), str(series)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return sorted(out.glob("*.nii.gz"))


@pytest.fixture(scope="session")
def dcm2niix_outputs(
    medical_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """dcm2niix's volume of each shared CT series (the tilt-and-spacing-corrected one for the
    GE series)."""
    root = tmp_path_factory.mktemp("dcm2niix")
    phantom = run_dcm2niix(medical_dir / "ct_philips_phantom_5mm", root / "phantom")
    tilted = run_dcm2niix(medical_dir / "ct_ge_head_gantry_tilt", root / "tilt")
    return {
        "ct_philips_phantom_5mm": phantom[0],
        "ct_ge_head_gantry_tilt": next(p for p in tilted if "_Tilt_Eq" in p.name),
        "phantom_json": phantom[0].with_name(phantom[0].name.replace(".nii.gz", ".json")),
        "tilt_json": tilted[0].with_name(tilted[0].name.replace(".nii.gz", ".json")),
    }
