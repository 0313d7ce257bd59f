"""DICOM series to volumes: geometry and voxels as the reference converter (dcm2niix) writes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from shigu.core.errors import InputError
from shigu.solutions.medical import load_series, read_nifti, write_nifti
from shigu.solutions.medical.dicom import _even_distances
from shigu.solutions.medical.nifti import sidecar_path, write_sidecar

pytestmark = pytest.mark.integration


def test_regular_series_is_identical_to_dcm2niix(
    medical_dir: Path, dcm2niix_outputs: dict[str, Path]
) -> None:
    volume = load_series(medical_dir / "ct_philips_phantom_5mm")
    ref = nib.load(dcm2niix_outputs["ct_philips_phantom_5mm"])
    assert volume.data.shape == ref.shape
    np.testing.assert_allclose(volume.affine, ref.affine, atol=1e-4)
    np.testing.assert_array_equal(volume.data, ref.get_fdata())  # HU, voxel for voxel
    assert volume.data.dtype == np.int16 and volume.notes == []


def test_gantry_tilt_and_uneven_spacing_match_dcm2niix_tilt_eq(
    medical_dir: Path, dcm2niix_outputs: dict[str, Path]
) -> None:
    volume = load_series(medical_dir / "ct_ge_head_gantry_tilt")
    ref = nib.load(dcm2niix_outputs["ct_ge_head_gantry_tilt"])
    assert volume.data.shape == ref.shape == (512, 611, 56)
    np.testing.assert_allclose(volume.affine, ref.affine, atol=1e-4)
    diff = np.abs(volume.data.astype(np.float64) - ref.get_fdata())
    # both interpolate linearly; dcm2niix rounds after each of its two steps, we round once,
    # and sub-row weights at sharp edges differ: 99% of voxels within 1 HU
    assert diff.mean() < 1.0 and (diff <= 1).mean() > 0.99
    assert any("gantry tilt of 18.5 degrees" in n for n in volume.notes)
    assert any("uneven slice spacing" in n for n in volume.notes)


def test_slices_sorted_by_position_not_file_name(medical_dir: Path, tmp_path: Path) -> None:
    src = sorted((medical_dir / "ct_philips_phantom_5mm").glob("*.dcm"))
    for i, f in enumerate(reversed(src)):  # names now run against the anatomy
        shutil.copy(f, tmp_path / f"{i:03d}.dcm")
    a, b = load_series(tmp_path), load_series(medical_dir / "ct_philips_phantom_5mm")
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_allclose(a.affine, b.affine)


def test_nifti_round_trip_and_sidecar(
    medical_dir: Path, tmp_path: Path, dcm2niix_outputs: dict[str, Path]
) -> None:
    volume = load_series(medical_dir / "ct_philips_phantom_5mm")
    out = tmp_path / "v.nii.gz"
    write_nifti(volume, out)
    back = read_nifti(out)
    np.testing.assert_array_equal(back.data, volume.data)
    np.testing.assert_allclose(back.affine, volume.affine, atol=1e-5)
    image = nib.load(out)
    assert int(image.header["qform_code"]) == 1 and int(image.header["sform_code"]) == 1
    write_sidecar(volume.meta, sidecar_path(out), "test")
    ours = json.loads(sidecar_path(out).read_text())
    for ref_json in (dcm2niix_outputs["phantom_json"], dcm2niix_outputs["tilt_json"]):
        series = (
            "ct_philips_phantom_5mm"
            if ref_json == dcm2niix_outputs["phantom_json"]
            else "ct_ge_head_gantry_tilt"
        )
        ours = load_series(medical_dir / series).meta
        theirs = json.loads(ref_json.read_text())
        skip = {
            "ConversionSoftware",
            "ConversionSoftwareVersion",
            "BidsGuess",
            "InstitutionalDepartmentName",
        }
        wanted = set(theirs) - skip
        assert wanted <= set(ours), f"{series}: missing {wanted - set(ours)}"
        for key in wanted:
            if isinstance(theirs[key], str) or (
                isinstance(theirs[key], list) and isinstance(theirs[key][0], str)
            ):
                assert ours[key] == theirs[key], key
            else:  # dcm2niix prints 6 significant digits
                assert ours[key] == pytest.approx(theirs[key], abs=1e-5), key


def test_bad_series_are_refused_with_reasons(medical_dir: Path, tmp_path: Path) -> None:
    phantom = sorted(
        (medical_dir / "ct_philips_phantom_5mm").glob("*.dcm"), key=lambda p: int(p.stem[1:])
    )
    two = tmp_path / "two"
    two.mkdir()
    for f in phantom[:3] + sorted((medical_dir / "ct_ge_head_gantry_tilt").glob("*.dcm"))[:3]:
        shutil.copy(f, two / f"{f.parent.name}_{f.name}")
    with pytest.raises(InputError, match="holds 2 series"):
        load_series(two)
    assert load_series(two, "201").data.shape[2] == 3  # chosen by series number

    gap = tmp_path / "gap"
    gap.mkdir()
    for f in phantom[:10] + phantom[11:]:
        shutil.copy(f, gap / f.name)
    with pytest.raises(InputError, match=r"1 slice\(s\) missing between"):
        load_series(gap)
    filled = load_series(gap, allow_gaps=True)
    assert filled.data.shape[2] == 28 and filled.spacing[2] == pytest.approx(5.0)

    truncated = tmp_path / "truncated"
    truncated.mkdir()
    for f in phantom[:4]:
        shutil.copy(f, truncated / f.name)
    victim = truncated / phantom[2].name
    victim.write_bytes(victim.read_bytes()[:300_000])
    with pytest.raises(InputError, match=phantom[2].name):
        load_series(truncated)


def test_even_distances_rule() -> None:
    # the smallest gap, unless that needs more than twice the slices
    np.testing.assert_allclose(_even_distances(np.array([0.0, 1.0, 3.0, 4.0])), [0, 1, 2, 3, 4])
    capped = _even_distances(np.array([0.0, 0.1, 10.0]))
    assert len(capped) == 6 and capped[-1] == pytest.approx(10.0)


def test_compressed_transfer_syntaxes_decode(medical_dir: Path, tmp_path: Path) -> None:
    import cv2
    import pydicom
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEG2000Lossless, JPEGBaseline8Bit, JPEGLSLossless, RLELossless

    series = medical_dir / "ct_philips_phantom_5mm"
    syntaxes = [RLELossless, JPEGLSLossless, JPEG2000Lossless]
    for n, path in enumerate(sorted(series.glob("*.dcm"))):  # the syntaxes mixed in one series
        ds = pydicom.dcmread(path)
        ds.compress(syntaxes[n % 3])
        ds.save_as(tmp_path / path.name)
    np.testing.assert_array_equal(load_series(tmp_path).data, load_series(series).data)

    # JPEG baseline (8-bit lossy, as secondary captures and many exports are): no encoder in
    # pydicom, so the frame is encoded by OpenCV and encapsulated by hand
    ds = pydicom.dcmread(series / "I10.dcm")
    grey = np.clip((ds.pixel_array.astype(np.float64) - 900) / 400 * 255, 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", grey, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    ds.PixelData = encapsulate([jpeg.tobytes()])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.RescaleSlope, ds.RescaleIntercept = 1, 0
    single = tmp_path / "jpeg"
    single.mkdir()
    ds.save_as(single / "one.dcm")
    decoded = load_series(single).data[:, ::-1, 0].T  # back to rows x columns
    assert np.abs(decoded.astype(int) - grey.astype(int)).mean() < 2.0


@pytest.mark.parametrize(
    ("orientation", "step", "slope"),
    [
        ([0, 1, 0, 0, 0, -1], [1, 0, 0], 1.0),  # sagittal
        ([1, 0, 0, 0, 0, -1], [0, -1, 0], 1.0),  # coronal
        ([1, 0, 0, 0, -1, 0], [0, 0, -1], 1.0),  # axial, rows running upwards
        ([0.9848, 0.1736, 0, -0.1736, 0.9848, 0], [0, 0, 1], 1.0),  # oblique in plane
        ([0, 1, 0, 0, 0, -1], [-1, 0, 0], 0.5),  # sagittal, descending, fractional values
    ],
)
def test_other_orientations_match_dcm2niix(
    medical_dir: Path, tmp_path: Path, orientation: list[float], step: list[int], slope: float
) -> None:
    """The phantom's slices re-labelled in other orientations (the geometry a series we do not
    have could carry): same voxels and affine as dcm2niix on each."""
    import pydicom

    from tests.solutions.medical.conftest import run_dcm2niix

    series = tmp_path / "series"
    series.mkdir()
    for k, path in enumerate(sorted((medical_dir / "ct_philips_phantom_5mm").glob("*.dcm"))[:6]):
        ds = pydicom.dcmread(path)
        position = np.array([10.0, -20.0, 30.0]) + k * 5.0 * np.array(step, dtype=float)
        ds.ImageOrientationPatient = [f"{v:.6f}" for v in orientation]
        ds.ImagePositionPatient = [f"{v:.4f}" for v in position]
        ds.RescaleSlope = slope
        ds.save_as(series / f"{(k * 7) % 6:02d}.dcm")  # file names out of spatial order
    reference = nib.load(run_dcm2niix(series, tmp_path / "ref")[0])
    volume = load_series(series)
    np.testing.assert_allclose(volume.affine, reference.affine, atol=1e-3)
    np.testing.assert_allclose(volume.data, reference.get_fdata(), atol=1e-3)
