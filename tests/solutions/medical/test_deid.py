"""De-identification: nothing identifying left, series and references intact, pixels untouched,
idempotent; compared with dicognito on the same files."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from shigu.core.errors import InputError
from shigu.solutions.medical import load_series
from shigu.solutions.medical.deid import Deidentifier, _table, deidentify_tree
from shigu.solutions.medical.labels import _referenced_series, read_labels

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def deidentified(medical_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("deid")
    deidentify_tree(medical_dir, out, Deidentifier(b"test key"))
    return out


def _originals(medical_dir: Path) -> dict[str, Dataset]:
    """Original datasets by their SOP Instance UID."""
    out = {}
    for path in medical_dir.rglob("*.dcm"):
        ds = pydicom.dcmread(path)
        out[str(ds.SOPInstanceUID)] = ds
    return out


def test_no_identifying_attribute_left(medical_dir: Path, deidentified: Path) -> None:
    table = _table()
    deid = Deidentifier(b"test key")
    originals = _originals(medical_dir)
    outputs = sorted(deidentified.rglob("*.dcm"))
    assert len(outputs) == len(originals) == 64
    by_new_uid = {deid.new_uid(uid): ds for uid, ds in originals.items()}
    for path in outputs:
        ds = pydicom.dcmread(path)
        original = by_new_uid[str(ds.SOPInstanceUID)]
        assert ds.PatientIdentityRemoved == "YES"
        assert not any(e.tag.is_private for e in ds.iterall())
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        for element in original:
            action = table.get(int(element.tag))
            if action is None or element.VR == "SQ":
                continue
            if action == "X":
                assert element.tag not in ds, element.keyword
            elif action == "Z":
                assert ds[element.tag].value in ("", None), element.keyword
            elif action in ("U", "U*") or (action == "D" and element.value not in ("", None)):
                assert ds[element.tag].value != element.value, element.keyword
        if "PixelData" in original:
            assert ds.PixelData == original.PixelData  # pixels untouched, byte for byte


def test_series_and_references_survive(medical_dir: Path, deidentified: Path) -> None:
    folders = {p.parent for p in deidentified.rglob("*.dcm")}
    sizes = sorted(len(list(f.glob("*.dcm"))) for f in folders)
    series: dict[str, int] = {}
    for ds in _originals(medical_dir).values():
        series[str(ds.SeriesInstanceUID)] = series.get(str(ds.SeriesInstanceUID), 0) + 1
    assert sizes == sorted(series.values())  # one folder per original series, same members
    for name in ("ct_philips_phantom_5mm", "ct_ge_head_gantry_tilt"):
        before = load_series(medical_dir / name)
        uid = str(pydicom.dcmread(next((medical_dir / name).glob("*.dcm"))).SeriesInstanceUID)
        after = load_series(deidentified / Deidentifier(b"test key").new_uid(uid))
        np.testing.assert_array_equal(after.data, before.data)  # the same volume
        np.testing.assert_allclose(after.affine, before.affine)
    rt = next(p for p in deidentified.rglob("*.dcm") if pydicom.dcmread(p).Modality == "RTSTRUCT")
    ct_folder = deidentified / str(_referenced_series(pydicom.dcmread(rt)))
    assert ct_folder in folders  # the referenced series UID was mapped as the series was
    mask = read_labels(rt, image=ct_folder).masks[1]  # its references still resolve
    np.testing.assert_array_equal(mask, read_labels(medical_dir / "rtstruct" / "rt.dcm").masks[1])


def test_idempotent_and_audited(deidentified: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    report = deidentify_tree(deidentified, again, Deidentifier(b"another key"))
    assert report.changes == []
    for path in deidentified.rglob("*.dcm"):
        assert (again / path.relative_to(deidentified)).read_bytes() == path.read_bytes()
    rows = list(csv.DictReader((deidentified / "deid_audit.csv").open()))
    assert {"removed", "emptied", "replaced", "uid-replaced", "private-removed"} <= {
        r["action"] for r in rows
    }
    assert not any("HEAD" in r["detail"] or "PLASTIC" in r["detail"] for r in rows)


def test_retained_dates_shift_per_patient(medical_dir: Path, tmp_path: Path) -> None:
    series = medical_dir / "ct_philips_phantom_5mm"
    deidentify_tree(series, tmp_path, Deidentifier(b"k", ("retain-dates", "retain-device")))
    outputs = [pydicom.dcmread(p) for p in tmp_path.rglob("*.dcm")]
    original = pydicom.dcmread(next(series.glob("*.dcm")))
    shift = Deidentifier(b"k").date_shift_days(str(original.PatientID))
    assert -3650 <= shift <= -365
    for ds in outputs:
        assert ds.StudyDate != original.StudyDate and ds.StudyTime == original.StudyTime
        assert ds.DeviceSerialNumber == original.DeviceSerialNumber  # retained
        assert ds.LongitudinalTemporalInformationModified == "MODIFIED"
    days = np.datetime64(
        f"{outputs[0].StudyDate[:4]}-{outputs[0].StudyDate[4:6]}-{outputs[0].StudyDate[6:]}"
    ) - np.datetime64("2015-02-06")
    assert int(days.astype(int)) == shift


def test_covers_what_dicognito_changes(medical_dir: Path, tmp_path: Path) -> None:
    from dicognito.anonymizer import Anonymizer

    series = medical_dir / "ct_philips_phantom_5mm"
    ours_dir = tmp_path / "ours"
    deidentify_tree(series, ours_dir, Deidentifier(b"k"))
    ours = {
        str(pydicom.dcmread(p).InstanceNumber): pydicom.dcmread(p) for p in ours_dir.rglob("*.dcm")
    }
    anonymizer = Anonymizer()
    for path in series.glob("*.dcm"):
        original = pydicom.dcmread(path)
        theirs = pydicom.dcmread(path)
        anonymizer.anonymize(theirs)
        mine = ours[str(original.InstanceNumber)]
        for element in original:
            changed_by_them = (
                element.tag not in theirs or theirs[element.tag].value != element.value
            )
            kept_by_us = element.tag in mine and mine[element.tag].value == element.value
            if changed_by_them and kept_by_us:
                assert element.value in ("", None), (
                    f"dicognito changes {element.keyword}, we keep it"
                )


def _ultrasound(tmp_path: Path) -> Path:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.6.1"
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.PatientName, ds.PatientID = "US", "DOE^JANE", "12345"
    ds.Rows, ds.Columns, ds.SamplesPerPixel = 40, 60, 1
    ds.PhotometricInterpretation, ds.BitsAllocated, ds.BitsStored = "MONOCHROME2", 8, 8
    ds.HighBit, ds.PixelRepresentation = 7, 0
    region = Dataset()
    region.RegionLocationMinX0, region.RegionLocationMinY0 = 10, 8
    region.RegionLocationMaxX1, region.RegionLocationMaxY1 = 49, 35
    ds.SequenceOfUltrasoundRegions = [region]
    ds.PixelData = np.full((40, 60), 200, dtype=np.uint8).tobytes()
    path = tmp_path / "us.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def test_burned_in_flagged_and_masked_on_ultrasound(medical_dir: Path, tmp_path: Path) -> None:
    us = _ultrasound(tmp_path)
    report = deidentify_tree(us, tmp_path / "flag", Deidentifier(b"k"))
    assert [c.action for c in report.changes if c.file == "us.dcm"].count("flagged") == 1
    deidentify_tree(us, tmp_path / "mask", Deidentifier(b"k", mask_burned_in=True))
    masked = pydicom.dcmread(next((tmp_path / "mask").rglob("*.dcm"))).pixel_array
    assert (masked[8:36, 10:50] == 200).all() and masked.sum() == 200 * 28 * 40
    ct = pydicom.dcmread(medical_dir / "ct_philips_phantom_5mm" / "I10.dcm")
    ct.BurnedInAnnotation = "YES"  # a CT with text in it: no declared regions to keep
    ct.save_as(tmp_path / "ct.dcm")
    with pytest.raises(InputError, match="only on ultrasound"):
        deidentify_tree(tmp_path / "ct.dcm", tmp_path / "ct", Deidentifier(b"k", (), True))
    assert not (tmp_path / "ct").exists()


def test_damaged_input_writes_nothing(medical_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for f in sorted((medical_dir / "ct_philips_phantom_5mm").glob("*.dcm"))[:3]:
        shutil.copy(f, src / f.name)
    victim = sorted(src.glob("*.dcm"))[-1]
    victim.write_bytes(victim.read_bytes()[:100_000])
    with pytest.raises(InputError, match=victim.name):
        deidentify_tree(src, tmp_path / "out", Deidentifier(b"k"))
    assert not (tmp_path / "out").exists()


def test_sr_references_follow_their_targets(medical_dir: Path, deidentified: Path) -> None:
    deid = Deidentifier(b"test key")
    originals = _originals(medical_dir)
    known = {
        str(v)
        for ds in originals.values()
        for v in (ds.SOPInstanceUID, ds.SeriesInstanceUID, ds.StudyInstanceUID)
    }
    sr = next(ds for ds in originals.values() if ds.Modality == "SR")
    referenced = {str(e.value) for e in sr.iterall() if e.VR == "UI"} & known
    referenced.discard(str(sr.SOPInstanceUID))
    assert referenced  # the SR points at the SEG's source images and study
    out_sr = pydicom.dcmread(
        deidentified
        / deid.new_uid(str(sr.SeriesInstanceUID))
        / f"{deid.new_uid(str(sr.SOPInstanceUID))}.dcm"
    )
    values = {str(e.value) for e in out_sr.iterall() if e.VR == "UI"}
    assert {deid.new_uid(u) for u in referenced} <= values
    assert not referenced & values  # no original UID survives


def test_duplicate_instances_refused_before_writing(medical_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    one = medical_dir / "ct_philips_phantom_5mm" / "I10.dcm"
    shutil.copy(one, src / "a.dcm")
    shutil.copy(one, src / "b.dcm")
    with pytest.raises(InputError, match="same instance"):
        deidentify_tree(src, tmp_path / "out", Deidentifier(b"k"))
    assert not (tmp_path / "out").exists()
